// Session workers run the session workflows (the agent loop) and their local activities: the event journal, and the
// work queue of self-hosted environments.
// Entry: `npm run worker:session`.
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { createJournalActivities } from '../activities/store/journal-activities.ts';
import { createThreadActivities } from '../activities/store/thread-activities.ts';
import { createWorkQueueActivities } from '../activities/store/work-queue-activities.ts';
import { taskQueues } from '../domain/task-queues.ts';
import {
  baseWorkerCreateOptions,
  bootstrapWorkerProcess,
  isMainModule,
  runUntilSignalled,
  workerBaseFromDeps,
  type WorkerBaseOptions,
} from './bootstrap.ts';
import { missingLaunchSettings } from './process-launch.ts';
import { workflowBundlerOptions } from './workflow-bundler.ts';
import {
  sessionWorkerVersionFromConfig,
  versionedWorkerOptions,
  type SessionWorkerVersion,
} from './worker-versioning.ts';

export const workflowsPath = new URL('../workflows/index.ts', import.meta.url).pathname;

export interface SessionWorkerOptions extends WorkerBaseOptions {
  /** A prebuilt bundle (tests build one per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxCachedWorkflows?: number;
  /** Run as this version of a Worker Deployment (sessions pinned to it); unset: unversioned. */
  version?: SessionWorkerVersion;
}

export async function createSessionWorker(options: SessionWorkerOptions): Promise<Worker> {
  return Worker.create({
    ...baseWorkerCreateOptions(options, taskQueues.session),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath, bundlerOptions: workflowBundlerOptions }),
    activities: {
      ...createJournalActivities(options.pool),
      ...createWorkQueueActivities(options.pool),
      ...createThreadActivities(options.pool),
    },
    maxCachedWorkflows: options.maxCachedWorkflows,
    ...(options.version ? versionedWorkerOptions(options.version) : {}),
  });
}

if (isMainModule(import.meta.url)) {
  const deps = await bootstrapWorkerProcess('session-worker');
  const versioned = await sessionWorkerVersionFromConfig(deps.config, workflowsPath);
  const worker = await createSessionWorker({
    ...workerBaseFromDeps(deps),
    maxCachedWorkflows: deps.config.AGENTS_SESSION_CACHE_SIZE,
    workflowBundle:
      versioned?.workflowBundle ??
      (deps.config.AGENTS_WORKFLOW_BUNDLE_PATH ? { codePath: deps.config.AGENTS_WORKFLOW_BUNDLE_PATH } : undefined),
    version: versioned?.version,
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
    {
      taskQueue: worker.options.taskQueue,
      maxCachedWorkflows: worker.options.maxCachedWorkflows,
      workerDeployment: versioned?.version ?? 'unversioned',
    },
    'session worker started',
  );
  await runUntilSignalled(deps, [worker]);
}
