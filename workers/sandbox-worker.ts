// Sandbox workers: one per Docker host. Each polls the shared sandbox queue (creation: any host may take it) and its
// own host queue (every later operation on the containers it holds). A reaper removes containers whose session is
// gone. Entry: `npm run worker:sandbox` (host id from AGENTS_SANDBOX_HOST_ID, default the hostname).
import { hostname } from 'node:os';
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type Docker from 'dockerode';
import DockerClient from 'dockerode';
import type pg from 'pg';
import { createSandboxActivities } from '../activities/sandbox/activities.ts';
import { hostLabel } from '../domain/sandbox.ts';
import { sandboxHostQueue, taskQueues, withPrefix } from '../domain/task-queues.ts';
import { bootstrapWorkerProcess, isMainModule, runUntilSignalled } from './bootstrap.ts';

export interface SandboxWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueuePrefix: string;
  hostId: string;
  pool: pg.Pool;
  docker: Docker;
  dataConverter: DataConverter;
  extraLabels?: Record<string, string>;
  maxConcurrency?: number;
}

/** Two workers sharing one set of activities: the shared creation queue and this host's queue. */
export async function createSandboxWorkers(options: SandboxWorkerOptions): Promise<Worker[]> {
  const hostQueue = withPrefix(options.taskQueuePrefix, sandboxHostQueue(options.hostId));
  const activities = createSandboxActivities({
    docker: options.docker,
    pool: options.pool,
    hostQueue,
    extraLabels: { ...options.extraLabels, [hostLabel]: options.hostId },
  });
  const common = {
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    activities,
    dataConverter: options.dataConverter,
    maxConcurrentActivityTaskExecutions: options.maxConcurrency ?? 20,
  };
  return Promise.all([
    Worker.create({ ...common, taskQueue: withPrefix(options.taskQueuePrefix, taskQueues.sandbox) }),
    Worker.create({ ...common, taskQueue: hostQueue }),
  ]);
}

if (isMainModule(import.meta.url)) {
  const deps = await bootstrapWorkerProcess('sandbox-worker');
  const hostId = deps.config.AGENTS_SANDBOX_HOST_ID ?? hostname();
  const workers = await createSandboxWorkers({
    connection: deps.connection,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    taskQueuePrefix: deps.config.AGENTS_TASK_QUEUE_PREFIX,
    hostId,
    pool: deps.pool,
    docker: new DockerClient(),
    dataConverter: deps.dataConverter,
    maxConcurrency: deps.config.AGENTS_SANDBOX_MAX_CONCURRENCY,
  });
  deps.logger.info({ queues: workers.map((worker) => worker.options.taskQueue) }, 'sandbox worker started');
  await runUntilSignalled(deps, workers);
}
