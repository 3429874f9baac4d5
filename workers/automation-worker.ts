// Automation workers run what the platform does on its own: deployment runs started by Temporal Schedules, webhook
// deliveries and dreams (workflows/dream-workflow.ts), on the `agents-automation` queue. A run creates its session through the
// API's own session-creation path (api/session-creation.ts via api/deployment-runner.ts), injected into the activity.
// Entry: `npm run worker:automation`.
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkerOptions, type WorkerPlugin } from '@temporalio/worker';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createDeploymentActivities } from '../activities/deployments/activities.ts';
import { createDreamActivities } from '../activities/dreams/activities.ts';
import { createWebhookActivities } from '../activities/webhooks/activities.ts';
import { runDeployment } from '../api/deployment-runner.ts';
import { WebhookDispatcher, webhookEvent } from '../api/webhook-dispatch.ts';
import { vaultSecretBox } from '../db/repositories/secret-box.ts';
import { UrlGuard } from '../net/url-guard.ts';
import { DeploymentSchedules } from '../api/deployment-schedules.ts';
import { sessionAdmission } from '../api/session-admission.ts';
import { SessionDriver } from '../api/session-driver.ts';
import { sessionSettingsFromConfig, type PlatformConfig } from '../domain/config.ts';
import { defaultSessionSettings, type SessionSettings } from '../domain/session.ts';
import { taskQueues, withPrefix } from '../domain/task-queues.ts';
import { bootstrapWorkerProcess, isMainModule, runUntilSignalled } from './bootstrap.ts';
import { workflowsPath } from './session-worker.ts';
import { workflowBundlerOptions } from './workflow-bundler.ts';

export interface AutomationWorkerOptions {
  connection: NativeConnection;
  /** The client runs use to start sessions and pause schedules. */
  client: Client;
  config: PlatformConfig;
  pool: pg.Pool;
  dataConverter: DataConverter;
  workflowBundle?: WorkerOptions['workflowBundle'];
  plugins?: WorkerPlugin[];
  logger?: Logger;
  /** Merged over the default settings of the sessions runs create (tests shorten timers here). */
  sessionSettings?: Partial<SessionSettings>;
}

export async function createAutomationWorker(
  options: AutomationWorkerOptions,
): Promise<{ worker: Worker; sweep: () => Promise<void> }> {
  const { config, pool, client } = options;
  const taskQueuePrefix = config.AGENTS_TASK_QUEUE_PREFIX;
  const settings: SessionSettings = {
    ...defaultSessionSettings,
    ...sessionSettingsFromConfig(config),
    ...options.sessionSettings,
  };
  const schedules = new DeploymentSchedules(client, {
    taskQueuePrefix,
    catchupWindowMs: config.AGENTS_DEPLOYMENT_CATCHUP_WINDOW_MS,
  });
  const dispatcher = new WebhookDispatcher(pool, client, config, options.logger);
  const runner = {
    pool,
    sessions: { pool, config, settings, driver: new SessionDriver(client) },
    schedules,
    emit: dispatcher.emit,
    admit: sessionAdmission(pool, client, config),
  };
  const worker = await Worker.create({
    connection: options.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: withPrefix(taskQueuePrefix, taskQueues.automation),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath, bundlerOptions: workflowBundlerOptions }),
    activities: {
      ...createDeploymentActivities({
        runDeployment: async (request) => {
          const run = await runDeployment(runner, request);
          return run && { runId: run.id, sessionId: run.session_id, error: run.error };
        },
      }),
      ...createDreamActivities({ pool }),
      ...createWebhookActivities({
        pool,
        secretBox: vaultSecretBox(config),
        fetch: new UrlGuard(config.AGENTS_PRIVATE_NETWORK_ALLOWLIST).fetch,
        attemptTimeoutMs: config.AGENTS_WEBHOOK_ATTEMPT_TIMEOUT_MS,
        disableAfterFailures: config.AGENTS_WEBHOOK_DISABLE_AFTER_FAILURES,
        eventBody: webhookEvent,
      }),
    },
    dataConverter: options.dataConverter,
    plugins: options.plugins,
  });
  return { worker, sweep: () => sweepWhileRunning(worker, dispatcher, config, options.logger) };
}

/** Starts, every AGENTS_WEBHOOK_SWEEP_INTERVAL_MS while the worker runs, the deliveries no emitter could start. */
async function sweepWhileRunning(
  worker: Worker,
  dispatcher: WebhookDispatcher,
  config: PlatformConfig,
  logger: Logger | undefined,
): Promise<void> {
  while (worker.getState() !== 'STOPPED' && worker.getState() !== 'FAILED') {
    await new Promise((resolve) => setTimeout(resolve, config.AGENTS_WEBHOOK_SWEEP_INTERVAL_MS));
    if (worker.getState() !== 'RUNNING') continue;
    await dispatcher.sweep().catch((error: unknown) => logger?.warn({ err: error }, 'webhook sweep failed'));
  }
}

if (isMainModule(import.meta.url)) {
  const deps = await bootstrapWorkerProcess('automation-worker');
  const connection = await Connection.connect({ address: deps.config.TEMPORAL_ADDRESS });
  const client = new Client({
    connection,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    dataConverter: deps.dataConverter,
  });
  const { worker, sweep } = await createAutomationWorker({
    logger: deps.logger,
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
  const sweeping = sweep();
  await runUntilSignalled(deps, [worker]);
  await sweeping;
  await connection.close();
}
