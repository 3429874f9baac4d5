// One Temporal dev server (in memory) and one PostgreSQL cluster (in a temp folder) per test run, on free ports; Docker
// checked once. Tests read the addresses with `inject(...)`. Teardown stops both and removes the run's containers.
// AGENTS_TEST_TEMPORAL=cluster (npm run test:cluster) runs a Temporal cluster instead of the dev server: the four services
// as separate processes, two history processes, persistence and visibility in that PostgreSQL (scripts/services/temporal-cluster.ts).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { platformFailureConverterPath } from '../../codec/data-converter.ts';
import { workflowsPath } from '../../workers/session-worker.ts';
import { workflowBundlerOptions } from '../../workers/workflow-bundler.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { dockerAnswers, managedLabel, removeContainersLabelled } from '../../scripts/services/docker.ts';
import { freePort } from '../../scripts/services/process.ts';
import { startLocalPostgres, type LocalPostgres } from '../../scripts/services/postgres.ts';
import { startTemporalDevServer } from '../../scripts/services/temporal.ts';
import { startTemporalCluster } from '../../scripts/services/temporal-cluster.ts';
import { readClusterServerDir, readToolsEnv, type ToolsEnv } from '../../scripts/services/tools-env.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    sandboxImage: string;
    testRunId: string;
    workflowBundlePath: string;
    /** Cluster profile only: the history processes' pids, for fault tests that kill one (empty on the dev server). */
    temporalHistoryPids: number[];
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tools = readToolsEnv();
  const runDir = mkdtempSync(join(tmpdir(), 'agents-test-'));
  chmodSync(runDir, 0o755); // the postgres system user must reach its data folder inside
  const testRunId = runDir.slice(-6).toLowerCase();
  let temporal: RunTemporal | undefined;
  let postgres: LocalPostgres | undefined;

  const teardown = async (): Promise<void> => {
    await removeContainersLabelled({ [managedLabel]: 'true', 'io.temporal-agents.test-run': testRunId }).catch(() => 0);
    await temporal?.stop();
    await postgres?.process.stop();
    rmSync(runDir, { recursive: true, force: true });
  };

  try {
    const [temporalPort, postgresPort] = [await freePort(), await freePort()];
    if (process.env.AGENTS_TEST_TEMPORAL === 'cluster') {
      postgres = await startPostgresForTests(tools.pgBinDir, runDir, postgresPort);
      temporal = await startClusterForTests(postgres.url, runDir);
    } else {
      [temporal, postgres] = await Promise.all([
        startDevServerForTests(tools, runDir, temporalPort),
        startPostgresForTests(tools.pgBinDir, runDir, postgresPort),
      ]);
    }
    await migrateDatabase(postgres.url);
    await dockerAnswers();
    // Bundle the workflows once per run; every test's session worker loads this file.
    const bundle = await bundleWorkflowCode({
      workflowsPath,
      failureConverterPath: platformFailureConverterPath,
      logger: quietBundlerLogger,
      ...workflowBundlerOptions,
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
  project.provide('temporalHistoryPids', temporal.historyPids);
  return teardown;
}

interface RunTemporal {
  address: string;
  historyPids: number[];
  stop(): Promise<void>;
}

async function startDevServerForTests(tools: ToolsEnv, runDir: string, port: number): Promise<RunTemporal> {
  const server = await startTemporalDevServer({ bin: tools.temporalBin, port, logFile: join(runDir, 'temporal.log') });
  return { address: server.address, historyPids: [], stop: () => server.process.stop() };
}

async function startClusterForTests(postgresUrl: string, runDir: string): Promise<RunTemporal> {
  const started = Date.now();
  const cluster = await startTemporalCluster({ serverDir: readClusterServerDir(), postgresUrl, runDir });
  console.log(`Temporal cluster up in ${Date.now() - started} ms at ${cluster.address} (logs in ${runDir})`);
  const historyPids = [...cluster.processes.entries()]
    .filter(([name]) => name.startsWith('history'))
    .map(([, proc]) => proc.child.pid!);
  return { address: cluster.address, historyPids, stop: () => cluster.stop() };
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
