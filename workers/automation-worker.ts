// Automation workers run what the platform does on its own: deployment runs started by Temporal Schedules and (later
// in this file's life) webhook deliveries, on the `agents-automation` queue. A run creates its session through the
// API's own session-creation path (api/session-creation.ts via api/deployment-runner.ts), injected into the activity.
// Entry: `npm run worker:automation`.
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkerOptions, type WorkerPlugin } from '@temporalio/worker';
import type pg from 'pg';
import { createDeploymentActivities } from '../activities/deployments/activities.ts';
import { runDeployment, type PlatformEventSink } from '../api/deployment-runner.ts';
import { DeploymentSchedules } from '../api/deployment-schedules.ts';
import { SessionDriver } from '../api/session-driver.ts';
import type { PlatformConfig } from '../domain/config.ts';
import { defaultSessionSettings, type SessionSettings } from '../domain/session.ts';
import { taskQueues, withPrefix } from '../domain/task-queues.ts';
import { bootstrapWorkerProcess, isMainModule, runUntilSignalled } from './bootstrap.ts';
import { workflowsPath } from './session-worker.ts';

export interface AutomationWorkerOptions {
  connection: NativeConnection;
  /** The client runs use to start sessions and pause schedules. */
  client: Client;
  config: PlatformConfig;
  pool: pg.Pool;
  dataConverter: DataConverter;
  workflowBundle?: WorkerOptions['workflowBundle'];
  plugins?: WorkerPlugin[];
  /** Merged over the default settings of the sessions runs create (tests shorten timers here). */
  sessionSettings?: Partial<SessionSettings>;
}

export async function createAutomationWorker(options: AutomationWorkerOptions): Promise<Worker> {
  const { config, pool, client } = options;
  const taskQueuePrefix = config.AGENTS_TASK_QUEUE_PREFIX;
  const settings: SessionSettings = { ...defaultSessionSettings, taskQueuePrefix, ...options.sessionSettings };
  const schedules = new DeploymentSchedules(client, {
    taskQueuePrefix,
    catchupWindowMs: config.AGENTS_DEPLOYMENT_CATCHUP_WINDOW_MS,
  });
  const emit: PlatformEventSink = async () => undefined;
  const runner = { pool, sessions: { pool, config, settings, driver: new SessionDriver(client) }, schedules, emit };
  return Worker.create({
    connection: options.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: withPrefix(taskQueuePrefix, taskQueues.automation),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    activities: createDeploymentActivities({
      runDeployment: async (request) => {
        const run = await runDeployment(runner, request);
        return run && { runId: run.id, sessionId: run.session_id, error: run.error };
      },
    }),
    dataConverter: options.dataConverter,
    plugins: options.plugins,
  });
}

if (isMainModule(import.meta.url)) {
  const deps = await bootstrapWorkerProcess('automation-worker');
  const connection = await Connection.connect({ address: deps.config.TEMPORAL_ADDRESS });
  const client = new Client({
    connection,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    dataConverter: deps.dataConverter,
  });
  const worker = await createAutomationWorker({
    connection: deps.connection,
    client,
    config: deps.config,
    pool: deps.pool,
    dataConverter: deps.dataConverter,
    plugins: deps.plugins,
    workflowBundle: deps.config.AGENTS_WORKFLOW_BUNDLE_PATH
      ? { codePath: deps.config.AGENTS_WORKFLOW_BUNDLE_PATH }
      : undefined,
  });
  deps.logger.info({ taskQueue: worker.options.taskQueue }, 'automation worker started');
  await runUntilSignalled(deps, [worker]);
  await connection.close();
}
