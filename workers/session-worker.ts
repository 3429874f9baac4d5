// Session workers run the session workflows (the agent loop) and their local activities: the event journal, and the
// work queue of self-hosted environments.
// Entry: `npm run worker:session`.
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { createJournalActivities } from '../activities/store/journal-activities.ts';
import { createThreadActivities } from '../activities/store/thread-activities.ts';
import { createWorkQueueActivities } from '../activities/store/work-queue-activities.ts';
import { createRegionActivities } from '../activities/store/region-activities.ts';
import { regionQueue, taskQueues } from '../domain/task-queues.ts';
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
import { SessionQueueAdoption, startRegionHeartbeat } from './region-fleet.ts';
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
  /** Regions (README "Regions"): the region whose session queue this worker polls, and the fleet it belongs to. */
  region?: { queue: string; own: string; staleMs: number };
}

export async function createSessionWorker(options: SessionWorkerOptions): Promise<Worker> {
  return Worker.create({
    ...baseWorkerCreateOptions(options, regionQueue(taskQueues.session, options.region?.queue)),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath, bundlerOptions: workflowBundlerOptions }),
    activities: {
      ...createJournalActivities(options.pool),
      ...createWorkQueueActivities(options.pool),
      ...createThreadActivities(options.pool),
      ...createRegionActivities(options.pool, {
        workerRegion: options.region?.own,
        staleMs: options.region?.staleMs ?? 30_000,
      }),
    },
    maxCachedWorkflows: options.maxCachedWorkflows,
    ...(options.version ? versionedWorkerOptions(options.version) : {}),
  });
}

if (isMainModule(import.meta.url)) {
  const deps = await bootstrapWorkerProcess('session-worker');
  const versioned = await sessionWorkerVersionFromConfig(deps.config, workflowsPath);
  const { config } = deps;
  const ownRegion = config.AGENTS_REGION;
  const workerFor = (region: string | undefined) =>
    createSessionWorker({
      ...workerBaseFromDeps(deps),
      maxCachedWorkflows: config.AGENTS_SESSION_CACHE_SIZE,
      workflowBundle:
        versioned?.workflowBundle ??
        (config.AGENTS_WORKFLOW_BUNDLE_PATH ? { codePath: config.AGENTS_WORKFLOW_BUNDLE_PATH } : undefined),
      version: versioned?.version,
      ...(region && ownRegion
        ? { region: { queue: region, own: ownRegion, staleMs: config.AGENTS_REGION_STALE_MS } }
        : {}),
    });
  const worker = await workerFor(ownRegion);
  const fleet = ownRegion ? startSessionFleet(deps, ownRegion, workerFor) : undefined;
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
      region: ownRegion ?? 'none',
      maxCachedWorkflows: worker.options.maxCachedWorkflows,
      workerDeployment: versioned?.version ?? 'unversioned',
    },
    'session worker started',
  );
  await runUntilSignalled(deps, [worker], () => fleet?.stop());
}

/** A regional session worker beats for its region and adopts the session queues of regions that are gone. */
function startSessionFleet(
  deps: Awaited<ReturnType<typeof bootstrapWorkerProcess>>,
  region: string,
  workerFor: (region: string) => Promise<Worker>,
) {
  const { config, pool, logger: log } = deps;
  const heartbeat = startRegionHeartbeat({
    pool,
    region,
    kind: 'session',
    intervalMs: config.AGENTS_REGION_HEARTBEAT_MS,
    log,
  });
  void heartbeat.beat();
  const adoption = new SessionQueueAdoption({
    pool,
    region,
    regions: config.AGENTS_REGIONS,
    staleMs: config.AGENTS_REGION_STALE_MS,
    intervalMs: config.AGENTS_REGION_HEARTBEAT_MS,
    log,
    createWorker: workerFor,
  });
  adoption.start();
  return {
    async stop() {
      heartbeat.stop();
      await adoption.stop();
    },
  };
}
