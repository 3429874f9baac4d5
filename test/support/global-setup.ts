// One Temporal dev server (in memory) and one PostgreSQL cluster (in a temp folder) per test run, on free ports; Docker
// checked once. Tests read the addresses with `inject(...)`. Teardown stops both and removes the run's containers.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { platformFailureConverterPath } from '../../codec/data-converter.ts';
import { workflowsPath } from '../../workers/session-worker.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { dockerAnswers, managedLabel, removeContainersLabelled } from '../../scripts/services/docker.ts';
import { freePort } from '../../scripts/services/process.ts';
import { startLocalPostgres, type LocalPostgres } from '../../scripts/services/postgres.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/services/temporal.ts';
import { readToolsEnv } from '../../scripts/services/tools-env.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    sandboxImage: string;
    testRunId: string;
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tools = readToolsEnv();
  const runDir = mkdtempSync(join(tmpdir(), 'agents-test-'));
  chmodSync(runDir, 0o755); // the postgres system user must reach its data folder inside
  const testRunId = runDir.slice(-6).toLowerCase();
  let temporal: TemporalDevServer | undefined;
  let postgres: LocalPostgres | undefined;

  const teardown = async (): Promise<void> => {
    await removeContainersLabelled({ [managedLabel]: 'true', 'io.temporal-agents.test-run': testRunId }).catch(() => 0);
    await Promise.all([temporal?.process.stop(), postgres?.process.stop()]);
    rmSync(runDir, { recursive: true, force: true });
  };

  try {
    const [temporalPort, postgresPort] = [await freePort(), await freePort()];
    [temporal, postgres] = await Promise.all([
      startTemporalDevServer({ bin: tools.temporalBin, port: temporalPort, logFile: join(runDir, 'temporal.log') }),
      startPostgresForTests(tools.pgBinDir, runDir, postgresPort),
    ]);
    await migrateDatabase(postgres.url);
    await dockerAnswers();
    // Bundle the workflows once per run; every test's session worker loads this file.
    const bundle = await bundleWorkflowCode({
      workflowsPath,
      failureConverterPath: platformFailureConverterPath,
      logger: quietBundlerLogger,
    });
    writeFileSync(join(runDir, 'workflow-bundle.js'), bundle.code);
  } catch (error) {
    await teardown();
    throw error;
  }

  project.provide('temporalAddress', temporal.address);
  project.provide('databaseUrl', postgres.url);
  project.provide('sandboxImage', tools.sandboxImage);
  project.provide('testRunId', testRunId);
  project.provide('workflowBundlePath', join(runDir, 'workflow-bundle.js'));
  return teardown;
}

async function startPostgresForTests(binDir: string | undefined, runDir: string, port: number): Promise<LocalPostgres> {
  if (!binDir) throw new Error('no PostgreSQL binaries: run npm run setup (DATABASE_URL is not used by the tests)');
  return startLocalPostgres({
    binDir,
    dataDir: join(runDir, 'pg'),
    port,
    logFile: join(runDir, 'postgres.log'),
    ephemeral: true,
  });
}

const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
  log: () => undefined,
};
