// Session workers run the session workflows (the agent loop) and their local activities: the event journal, and the
// work queue of self-hosted environments.
// Entry: `npm run worker:session`.
import { Worker, type NativeConnection, type WorkerOptions, type WorkerPlugin } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type pg from 'pg';
import { createJournalActivities } from '../activities/store/journal-activities.ts';
import { createWorkQueueActivities } from '../activities/store/work-queue-activities.ts';
import { taskQueues, withPrefix } from '../domain/task-queues.ts';
import { bootstrapWorkerProcess, isMainModule, runUntilSignalled } from './bootstrap.ts';
import { missingLaunchSettings } from './process-launch.ts';

export const workflowsPath = new URL('../workflows/index.ts', import.meta.url).pathname;

export interface SessionWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueuePrefix: string;
  pool: pg.Pool;
  dataConverter: DataConverter;
  /** A prebuilt bundle (tests build one per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxCachedWorkflows?: number;
  /** Worker plugins, e.g. OpenTelemetry tracing (workers/tracing.ts). */
  plugins?: WorkerPlugin[];
}

export async function createSessionWorker(options: SessionWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: withPrefix(options.taskQueuePrefix, taskQueues.session),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    activities: { ...createJournalActivities(options.pool), ...createWorkQueueActivities(options.pool) },
    dataConverter: options.dataConverter,
    maxCachedWorkflows: options.maxCachedWorkflows,
    plugins: options.plugins,
  });
}

if (isMainModule(import.meta.url)) {
  const deps = await bootstrapWorkerProcess('session-worker');
  const worker = await createSessionWorker({
    connection: deps.connection,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    taskQueuePrefix: deps.config.AGENTS_TASK_QUEUE_PREFIX,
    pool: deps.pool,
    dataConverter: deps.dataConverter,
    plugins: deps.plugins,
    maxCachedWorkflows: deps.config.AGENTS_SESSION_CACHE_SIZE,
    workflowBundle: deps.config.AGENTS_WORKFLOW_BUNDLE_PATH
      ? { codePath: deps.config.AGENTS_WORKFLOW_BUNDLE_PATH }
      : undefined,
  });
  // eslint-disable-next-line no-restricted-syntax -- the process entry point checks how it was launched
  const missing = missingLaunchSettings('session', process.execArgv, process.env);
  if (missing.length > 0) {
    deps.logger.warn(
      { missing },
      'session worker started without its launch settings: memory grows more with idle sessions',
    );
  }
  deps.logger.info(
    { taskQueue: worker.options.taskQueue, maxCachedWorkflows: worker.options.maxCachedWorkflows },
    'session worker started',
  );
  await runUntilSignalled(deps, [worker]);
}
