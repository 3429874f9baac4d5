// Fault injection for deployments and webhooks. This file runs its own file-backed Temporal dev server (SQLite in a
// temp folder, so a restart keeps schedules and workflows), the automation worker as a process and the API in-process.
// - The automation worker is SIGKILLed while a webhook delivery is in flight (the receiver holds the request open):
//   after a new worker starts, every event arrives, once per webhook-id.
// - A deployment's seconds schedule keeps firing across a SIGKILL of the Temporal server and of the worker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createApiLogger } from '../../api/logger.ts';
import { createApi } from '../../api/server.ts';
import { createTenantWithKey } from '../../db/repositories/tenants.ts';
import { loadConfig } from '../../domain/config.ts';
import { freePort, type ManagedProcess } from '../../scripts/services/process.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/services/temporal.ts';
import { readToolsEnv } from '../../scripts/services/tools-env.ts';
import { testDataConverter, uniquePrefix } from '../support/platform.ts';
import { eventually } from '../support/api-harness.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { startWorkerProcess } from '../support/worker-processes.ts';

const prefix = uniquePrefix('faults-automation');
const runDir = mkdtempSync(join(tmpdir(), 'agents-faults-automation-'));
const env = {
  AGENTS_PRIVATE_NETWORK_ALLOWLIST: '127.0.0.0/8',
  AGENTS_WEBHOOK_RETRY_INITIAL_MS: '200',
  AGENTS_WEBHOOK_RETRY_MAX_MS: '1000',
  AGENTS_WEBHOOK_ATTEMPT_TIMEOUT_MS: '2000',
  AGENTS_WEBHOOK_SWEEP_INTERVAL_MS: '1000',
  AGENTS_DEPLOYMENT_SECONDS_CRON: 'true',
};
let port: number;
let temporal: TemporalDevServer | undefined;
let pool: pg.Pool;
let connection: Connection;
let api: FastifyInstance;
let client: Anthropic;
let worker: ManagedProcess | undefined;
let receiver: WebhookReceiver;

const startTemporal = () =>
  startTemporalDevServer({
    bin: readToolsEnv().temporalBin,
    port,
    dbFile: join(runDir, 'temporal.db'),
    logFile: join(runDir, 'temporal.log'),
  });
const startWorker = async () => {
  worker = await startWorkerProcess('automation', {
    prefix,
    extraEnv: { ...env, TEMPORAL_ADDRESS: temporal!.address },
  });
};

beforeAll(async () => {
  port = await freePort();
  temporal = await startTemporal();
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 5 });
  await startWorker();
  connection = await Connection.connect({ address: temporal.address });
  const config = loadConfig({
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: temporal.address,
    AGENTS_TASK_QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'error',
    ...env,
  });
  api = await createApi({
    config,
    pool,
    temporalClient: new Client({ connection, dataConverter: testDataConverter(pool) }),
    logger: createApiLogger(config),
    temporalTimeoutMs: 2_000,
  });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const address = api.server.address();
  const apiPort = typeof address === 'object' && address ? address.port : 0;
  const tenant = await createTenantWithKey(pool, `tenant ${prefix}`);
  client = new Anthropic({ apiKey: tenant.apiKey, baseURL: `http://127.0.0.1:${apiPort}`, maxRetries: 0 });
  receiver = await startWebhookReceiver(0);
}, 120_000);
afterAll(async () => {
  await worker?.stop('SIGKILL');
  await receiver?.close();
  await api?.close();
  await connection?.close();
  await pool?.end();
  await temporal?.process.stop();
  rmSync(runDir, { recursive: true, force: true });
});

it('loses no webhook delivery when the automation worker is SIGKILLed mid-delivery', { timeout: 120_000 }, async () => {
  const response = await fetch(`${client.baseURL}/v1/webhook_endpoints`, {
    method: 'POST',
    headers: { 'x-api-key': client.apiKey!, 'content-type': 'application/json' },
    body: JSON.stringify({ url: receiver.url, event_types: ['agent.created'] }),
  });
  receiver.secret = ((await response.json()) as { secret: string }).secret;
  receiver.hold = true;
  const agents = [];
  for (const name of ['one', 'two', 'three']) agents.push(await client.beta.agents.create({ name, model: 'm' }));
  await eventually(async () => (receiver.requests >= 1 ? true : undefined), 30_000, 'a delivery in flight');
  await worker!.stop('SIGKILL');
  receiver.hold = false;
  await startWorker();

  const accepted = await eventually(
    async () => (receiver.accepted.length >= agents.length ? receiver.accepted : undefined),
    60_000,
    'every delivery',
  );
  expect(accepted.map(({ event }) => event.data.id).sort()).toEqual(agents.map((agent) => agent.id).sort());
  const ids = accepted.map((delivery) => delivery.webhookId);
  expect(new Set(ids).size).toBe(ids.length);
  expect(receiver.unverified).toBe(0);
});

it('keeps a schedule firing across restarts of the Temporal server and the worker', { timeout: 300_000 }, async () => {
  const agent = await client.beta.agents.create({ name: 'scheduled', model: 'm' });
  const environment = await client.beta.environments.create({ name: `env-${prefix}` });
  const deployment = await client.beta.deployments.create({
    agent: agent.id,
    environment_id: environment.id,
    initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'tick' }] }],
    name: 'every two seconds',
    schedule: { type: 'cron', expression: '*/2 * * * * *', timezone: 'UTC' },
  });
  const scheduledRuns = async () => {
    const runs = [];
    for await (const run of client.beta.deploymentRuns.list({
      deployment_id: deployment.id,
      trigger_type: 'schedule',
    })) {
      runs.push(run);
    }
    return runs;
  };
  await eventually(async () => ((await scheduledRuns()).length >= 2 ? true : undefined), 30_000, 'first firings');

  await temporal!.process.stop('SIGKILL');
  await worker!.stop('SIGKILL');
  const beforeRestart = (await scheduledRuns()).length;
  temporal = await startTemporal();
  await startWorker();

  const observed = await eventually(
    async () => {
      const found = await scheduledRuns();
      return found.length >= beforeRestart + 2 ? new Set(found.map((run) => run.id)) : undefined;
    },
    90_000,
    'firings after the restart',
  );
  // A firing caught mid-activity by the SIGKILL has its run recorded but neither session nor error yet: its activity
  // is retried once its start-to-close timeout (1 minute) lapses on the restarted server. Wait for those runs to
  // settle (the schedule keeps firing meanwhile; later firings are not waited for).
  const settled = (run: { session_id: string | null; error: unknown }) => run.session_id !== null || run.error !== null;
  const runs = await eventually(
    async () => {
      const found = (await scheduledRuns()).filter((run) => observed.has(run.id));
      return found.every(settled) ? found : undefined;
    },
    120_000,
    'the observed firings settled',
  );
  const instants = runs.map((run) => (run.trigger_context as { scheduled_at: string }).scheduled_at);
  expect(new Set(instants).size).toBe(instants.length);
  // Every firing made its session; a failing run is shown whole (its error says what the restart did to it).
  expect(runs.filter((run) => run.session_id === null || run.error !== null)).toEqual([]);
  const reread = await client.beta.deployments.retrieve(deployment.id);
  expect(reread).toMatchObject({ status: 'active' });
  expect(reread.schedule?.upcoming_runs_at?.length).toBe(5);
  await client.beta.deployments.archive(deployment.id);
});
