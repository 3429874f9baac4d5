// Fault injection: restart the Temporal server mid-session. This file runs its own file-backed dev server (SQLite in a
// temp folder, so the restart keeps every workflow), worker processes pointed at it and the API in-process. While the
// server is down the API answers 503 (never 500); once it is back, the running turn finishes and the next one runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createApiLogger } from '../api/logger.ts';
import { createApi } from '../api/server.ts';
import { readEvents } from '../activities/store/event-reader.ts';
import { createTenantWithKey } from '../db/repositories/tenants.ts';
import { loadConfig } from '../domain/config.ts';
import { freePort, type ManagedProcess } from '../scripts/services/process.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../scripts/services/temporal.ts';
import { readToolsEnv } from '../scripts/services/tools-env.ts';
import { startFakeModelServer, type FakeModelServer } from './fake-model/server.ts';
import { testDataConverter, uniquePrefix } from './support/platform.ts';
import { turnEnds } from './support/session-driver.ts';
import { startWorkerProcess } from './support/worker-processes.ts';

const prefix = uniquePrefix('faults-temporal');
const runDir = mkdtempSync(join(tmpdir(), 'agents-faults-temporal-'));
let port: number;
let temporal: TemporalDevServer | undefined;
let fakeModel: FakeModelServer;
let pool: pg.Pool;
let connection: Connection;
let api: FastifyInstance;
let apiKey: string;
const workers: ManagedProcess[] = [];

const startTemporal = () =>
  startTemporalDevServer({
    bin: readToolsEnv().temporalBin,
    port,
    dbFile: join(runDir, 'temporal.db'),
    logFile: join(runDir, 'temporal.log'),
  });

beforeAll(async () => {
  port = await freePort();
  temporal = await startTemporal();
  fakeModel = await startFakeModelServer();
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 5 });
  for (const family of ['session', 'model'] as const) {
    workers.push(
      await startWorkerProcess(family, {
        prefix,
        fakeModelUrl: fakeModel.url,
        extraEnv: { TEMPORAL_ADDRESS: temporal.address },
      }),
    );
  }
  connection = await Connection.connect({ address: temporal.address });
  const config = loadConfig({
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: temporal.address,
    AGENTS_TASK_QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
  });
  api = await createApi({
    config,
    pool,
    temporalClient: new Client({ connection, dataConverter: testDataConverter(pool) }),
    logger: createApiLogger(config),
    sessionSettings: { modelRetryInitialMs: 100, modelRetryMaxMs: 1_000, modelHeartbeatTimeoutMs: 5_000 },
    temporalTimeoutMs: 1_000,
  });
  apiKey = (await createTenantWithKey(pool, `tenant ${prefix}`)).apiKey;
});
afterAll(async () => {
  await Promise.all(workers.map((child) => child.stop('SIGKILL')));
  await api?.close();
  await connection?.close();
  await fakeModel?.close();
  await pool?.end();
  await temporal?.process.stop();
  rmSync(runDir, { recursive: true, force: true });
});

const call = async (method: string, url: string, body?: unknown) => {
  const response = await api.inject({
    method: method as 'GET',
    url,
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>(), headers: response.headers };
};

const events = async (sessionId: string) => (await readEvents(pool, sessionId)).map((entry) => entry.event);

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it('resumes sessions after a Temporal restart and answers 503, never 500, while it is down', async () => {
  const model = `${prefix}-model`;
  // The first answer streams for ~4 s, so the server goes down while the model call is in flight.
  fakeModel.setScript(model, [
    { text: 'x'.repeat(200), chunkSize: 5, chunkDelayMs: 100 },
    { text: 'second turn after the restart' },
  ]);
  const agent = await call('POST', '/v1/agents', { name: 'restart agent', model, tools: [] });
  const environment = await call('POST', '/v1/environments', { name: `restart-${prefix}` });
  const session = await call('POST', '/v1/sessions', { agent: agent.body.id, environment_id: environment.body.id });
  expect(session.status).toBe(200);
  const sessionId = session.body.id as string;
  const message = (text: string) => ({ events: [{ type: 'user.message', content: [{ type: 'text', text }] }] });
  expect((await call('POST', `/v1/sessions/${sessionId}/events`, message('first'))).status).toBe(200);
  await waitFor('the model call', async () =>
    (await events(sessionId)).some((event) => event.type === 'span.model_request_start'),
  );

  await temporal!.process.stop('SIGKILL');
  const whileDown = [
    await call('POST', '/v1/sessions', { agent: agent.body.id, environment_id: environment.body.id }),
    await call('POST', `/v1/sessions/${sessionId}/events`, message('while down')),
    await call('GET', `/v1/sessions/${sessionId}`),
    await call('GET', `/v1/sessions/${sessionId}/events`),
    await call('POST', `/v1/sessions/${sessionId}/archive`),
    await call('GET', '/health'),
  ];
  const statuses = whileDown.map((response) => response.status);
  expect(statuses.filter((status) => status >= 500 && status !== 503)).toEqual([]);
  expect(statuses[0]).toBe(503);
  expect(statuses[1]).toBe(503);
  // Every 503 error (not /health's own report) has Anthropic's error shape and a retry-after.
  for (const response of whileDown.slice(0, -1).filter((r) => r.status === 503)) {
    expect(response.body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(response.headers['retry-after']).toBeDefined();
  }
  expect(whileDown.at(-1)?.status).toBe(503);

  temporal = await startTemporal();
  await waitFor('the first turn to finish', async () => turnEnds(await events(sessionId)) >= 1, 120_000);
  await waitFor('the API to accept events again', async () => {
    const response = await call('POST', `/v1/sessions/${sessionId}/events`, message('second'));
    expect(response.status === 200 || response.status === 503).toBe(true);
    return response.status === 200;
  });
  await waitFor('the second turn to finish', async () => turnEnds(await events(sessionId)) >= 2, 60_000);
  const all = await events(sessionId);
  expect(new Set(all.map((event) => event.id)).size).toBe(all.length);
  const answers = all.filter((event) => event.type === 'agent.message');
  expect(answers.at(-1)).toMatchObject({ content: [{ type: 'text', text: 'second turn after the restart' }] });
  expect(all.filter((event) => event.type === 'user.message')).toHaveLength(2);
});
