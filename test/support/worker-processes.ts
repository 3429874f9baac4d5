// Workers as separate processes, so tests can SIGKILL them mid-turn and start them again.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { startProcess, waitUntil, type ManagedProcess } from '../../scripts/services/process.ts';
import { projectRoot } from '../../scripts/services/tools-env.ts';
import { workerLaunch, workerNodeArgs, type WorkerFamily } from '../../workers/process-launch.ts';

export type { WorkerFamily };

export interface WorkerProcessOptions {
  prefix: string;
  fakeModelUrl?: string;
  extraEnv?: Record<string, string>;
  /** Start without the family's launch settings (workers/process-launch.ts), e.g. to measure what they change. */
  withoutLaunchSettings?: boolean;
  /** Where the log goes (default: the system's temporary folder). */
  logDir?: string;
}

const startedLine: Record<WorkerFamily, string> = {
  session: 'session worker started',
  model: 'model worker started',
  sandbox: 'sandbox worker started',
  automation: 'automation worker started',
  mcp: 'mcp worker started',
};

let spawned = 0;

export async function startWorkerProcess(family: WorkerFamily, options: WorkerProcessOptions): Promise<ManagedProcess> {
  const logFile = join(
    options.logDir ?? tmpdir(),
    `agents-${options.prefix}-${family}-${process.pid}-${++spawned}.log`,
  );
  const child = startProcess(
    family,
    process.execPath,
    options.withoutLaunchSettings
      ? ['--import', 'tsx', join(projectRoot, `workers/${family}-worker.ts`)]
      : workerNodeArgs(family, join(projectRoot, `workers/${family}-worker.ts`)),
    {
      logFile,
      cwd: projectRoot,
      env: {
        ...process.env,
        ...(options.withoutLaunchSettings ? {} : workerLaunch[family].env),
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        DATABASE_URL: inject('databaseUrl'),
        AGENTS_TASK_QUEUE_PREFIX: options.prefix,
        AGENTS_WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
        AGENTS_SANDBOX_IMAGE: inject('sandboxImage'),
        ...(options.fakeModelUrl ? { AGENTS_FAKE_MODEL_URL: options.fakeModelUrl } : {}),
        LOG_LEVEL: 'info',
        ...options.extraEnv,
      },
    },
  );
  await waitUntil(`${family} worker`, async () => readFileSync(logFile, 'utf8').includes(startedLine[family]), {
    process: child,
    timeoutMs: 60_000,
  });
  return child;
}
