// Fault injection: restart the Temporal server mid-session. This file runs its own file-backed dev server (SQLite in a
// temp folder, so the restart keeps every workflow), worker processes pointed at it and the API in-process. While the
// server is down the API answers 503 (never another 5xx); once it is back, the running turns finish and the next ones
// run, every log gap-free and without duplicates. Short by default (one restart, CI); FAULTS_TEMPORAL_RESTARTS=5
// FAULTS_RESULTS=1 restarts it five times at random points across more sessions and writes bench/results.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createApiLogger } from '../../api/logger.ts';
import { createApi } from '../../api/server.ts';
import { readEvents } from '../../db/repositories/session-events.ts';
import { createTenantWithKey } from '../../db/repositories/tenants.ts';
import { loadConfig } from '../../domain/config.ts';
import { freePort, type ManagedProcess } from '../../scripts/services/process.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/services/temporal.ts';
import { readToolsEnv } from '../../scripts/services/tools-env.ts';
import { writeResult } from '../../bench/support/results.ts';
import type { SessionEvent } from '../../domain/events.ts';
import type { ModelProvider } from '../../domain/model.ts';
import { startFakeModelServer, type FakeModelServer } from '../fake-model/server.ts';
import { testDataConverter, uniquePrefix } from '../support/platform.ts';
import { turnEnds } from '../support/workflow-session.ts';
import { startWorkerProcess } from '../support/worker-processes.ts';

const restartsWanted = Number(process.env.FAULTS_TEMPORAL_RESTARTS ?? '1');
const writeResults = process.env.FAULTS_RESULTS === '1';
const protocols: ModelProvider[] = ['anthropic', 'openai-chat', 'openai-responses'];

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
    LOG_LEVEL: 'error',
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
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const message = (text: string) => ({ events: [{ type: 'user.message', content: [{ type: 'text', text }] }] });
const textOf = (event: SessionEvent) =>
  ('content' in event ? (event.content ?? []) : []).map((block) => ('text' in block ? block.text : '')).join('');

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(100);
  }
}

interface LiveSession {
  id: string;
  protocol: ModelProvider;
  /** User messages accepted by the API (200), in order. */
  sent: string[];
}

interface Probe {
  /**
   * `down`: no server process; `starting`: the new one is coming up, until the API reports healthy; `recovering`:
   * until every session has finished its turn.
   */
  phase: 'down' | 'starting' | 'recovering';
  route: string;
  status: number;
  /** How long the API took to answer. */
  ms: number;
  body: Record<string, unknown>;
  retryAfter: unknown;
}

interface RestartRecord {
  round: number;
  /** After the first model call of the round started. */
  killAfterMs: number;
  /** Kill → the new server answers. */
  serverDownMs: number;
  /** Kill → the API's /health answers 200 again. */
  apiDownMs: number;
  requestsWhileDown: number;
  status503: number;
  /** The slowest answer while the server was gone (the API bounds every call to Temporal). */
  slowestAnswerMs: number;
  statuses: Record<string, number>;
  /** Reads (session, list, health) answered after that until every turn had finished; none a 5xx. */
  readsWhileRecovering?: number;
}

// Unscripted models get the fake model's demo answer ("You said: <text>"), a function of the request alone, so a
// model call retried after the restart answers the same. A long message streams for ~2 s (6 characters per 10 ms).
const turnText = (round: number, session: LiveSession) =>
  `round ${round} ${session.id}: ${'lorem ipsum dolor '.repeat(65)}`.trim();

async function createSession(agentId: string, environmentId: string, protocol: ModelProvider): Promise<LiveSession> {
  const session = await call('POST', '/v1/sessions', { agent: agentId, environment_id: environmentId });
  expect(session.status).toBe(200);
  return { id: session.body.id as string, protocol, sent: [] };
}

/** Posts a user message; on a 503 it only resends once the journal shows the first attempt did not land. */
async function sendMessage(session: LiveSession, text: string): Promise<void> {
  for (;;) {
    const response = await call('POST', `/v1/sessions/${session.id}/events`, message(text));
    if (response.status === 200) break;
    expect(response.status).toBe(503);
    await pause(3_000);
    const landed = (await events(session.id)).some((event) => event.type === 'user.message' && textOf(event) === text);
    if (landed) break;
  }
  session.sent.push(text);
}

type ProbeRoute = (session: LiveSession) => [route: string, method: string, url: string, body?: unknown];

/**
 * One client per route, each calling it again and again on a random session until `active()` turns false; resolves
 * once every call in flight has been answered.
 */
async function probe(
  phase: Probe['phase'],
  routes: ProbeRoute[],
  sessions: LiveSession[],
  active: () => boolean,
): Promise<Probe[]> {
  const probes: Probe[] = [];
  await Promise.all(
    routes.map(async (routeFor) => {
      do {
        const [route, method, url, body] = routeFor(sessions[Math.floor(Math.random() * sessions.length)]!);
        const started = performance.now();
        const response = await call(method, url, body);
        probes.push({
          phase,
          route,
          status: response.status,
          ms: Math.round(performance.now() - started),
          body: response.body,
          retryAfter: response.headers['retry-after'],
        });
        await pause(100);
      } while (active());
    }),
  );
  return probes;
}

/** What a client may try while the server is down: everything that needs Temporal answers 503. */
const downRoutes = (agentId: string, environmentId: string): ProbeRoute[] => [
  () => ['POST /v1/sessions', 'POST', '/v1/sessions', { agent: agentId, environment_id: environmentId }],
  (session) => ['POST events', 'POST', `/v1/sessions/${session.id}/events`, message('sent while the server was down')],
  (session) => ['GET session', 'GET', `/v1/sessions/${session.id}`],
  (session) => ['GET events', 'GET', `/v1/sessions/${session.id}/events`],
  () => ['GET sessions', 'GET', '/v1/sessions'],
  (session) => ['POST archive', 'POST', `/v1/sessions/${session.id}/archive`],
  () => ['GET /health', 'GET', '/health'],
];

/** While the new server comes up: reads only (a write that got through would change what the sessions must show). */
const recoveringRoutes: ProbeRoute[] = [
  (session) => ['GET session', 'GET', `/v1/sessions/${session.id}`],
  () => ['GET sessions', 'GET', '/v1/sessions'],
  () => ['GET /health', 'GET', '/health'],
];

const startingRoutes: ProbeRoute[] = [
  (session) => ['GET session', 'GET', `/v1/sessions/${session.id}`],
  (session) => ['GET events', 'GET', `/v1/sessions/${session.id}/events`],
  () => ['GET /health', 'GET', '/health'],
];

/** SIGKILLs the server, probes the API for a random while, starts the server again and probes until the API is healthy. */
async function restartTemporal(
  round: number,
  killAfterMs: number,
  sessions: LiveSession[],
  agentId: string,
  environmentId: string,
) {
  const killedAt = Date.now();
  await temporal!.process.stop('SIGKILL');
  // Writes stop before the new server starts: one still in flight then could land after its 503.
  const downUntil = killedAt + 500 + Math.floor(Math.random() * 2_000);
  const probes = await probe('down', downRoutes(agentId, environmentId), sessions, () => Date.now() < downUntil);

  let starting = true;
  const prober = probe('starting', startingRoutes, sessions, () => starting);
  try {
    temporal = await startTemporal();
  } finally {
    starting = false;
  }
  probes.push(...(await prober));
  const serverDownMs = Date.now() - killedAt;
  await waitFor('the API to report healthy', async () => (await call('GET', '/health')).status === 200);
  const apiDownMs = Date.now() - killedAt;

  // Never another 5xx; whatever needs Temporal is 503 while it is gone, with the error shape and a retry-after.
  const statuses = probes.map((probe) => probe.status);
  const otherServerErrors = probes.filter((answer) => answer.status >= 500 && answer.status !== 503);
  expect(
    otherServerErrors.map(({ phase, route, status, body }) => ({ phase, route, status, body })),
    `round ${round}`,
  ).toEqual([]);
  const needTemporal = new Set(['POST /v1/sessions', 'POST events', 'POST archive', 'GET /health']);
  for (const answer of probes.filter((p) => p.phase === 'down' && needTemporal.has(p.route))) {
    expect(answer.status, `${answer.route} while down`).toBe(503);
  }
  for (const answer of probes.filter((p) => p.status === 503 && p.route !== 'GET /health')) {
    expect(answer.body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(answer.retryAfter).toBeDefined();
  }
  const byStatus: Record<string, number> = {};
  for (const status of statuses) byStatus[status] = (byStatus[status] ?? 0) + 1;
  return {
    round,
    killAfterMs,
    serverDownMs,
    apiDownMs,
    requestsWhileDown: probes.length,
    status503: byStatus['503'] ?? 0,
    slowestAnswerMs: Math.max(...probes.map((answer) => answer.ms)),
    statuses: byStatus,
  } satisfies RestartRecord;
}

/** Every turn ended once with its one answer; no lost, duplicated or phantom events; the log is gap-free. */
async function verifySession(session: LiveSession): Promise<{ events: number; errors: number }> {
  const journaled = await readEvents(pool, session.id);
  const all = journaled.map((entry) => entry.event);
  const where = `${session.id} (${session.protocol})`;
  expect(
    journaled.map((entry) => entry.seq),
    where,
  ).toEqual(journaled.map((_, index) => index + 1));
  expect(new Set(all.map((event) => event.id)).size, where).toBe(all.length);
  const users = all.filter((event) => event.type === 'user.message').map(textOf);
  expect(users, where).toEqual(session.sent);
  const answers = all.filter((event) => event.type === 'agent.message').map(textOf);
  expect(answers, where).toEqual(session.sent.map((text) => `You said: ${text}`));
  const idles = all.filter((event) => event.type === 'session.status_idle');
  expect(
    idles.map((event) => event.stop_reason.type),
    where,
  ).toEqual(session.sent.map(() => 'end_turn'));
  return { events: all.length, errors: all.filter((event) => event.type === 'session.error').length };
}

it(
  `sessions resume after ${restartsWanted} Temporal restart(s) at random points; the API answers 503, never another 5xx`,
  { timeout: 180_000 + restartsWanted * 120_000 },
  async () => {
    const environment = await call('POST', '/v1/environments', { name: `restart-${prefix}` });
    const agentIds = new Map<ModelProvider, string>();
    for (const provider of protocols) {
      const agent = await call('POST', '/v1/agents', {
        name: `restart agent ${provider}`,
        model: { id: `${prefix}-demo-${provider}`, provider },
        tools: [],
      });
      expect(agent.status).toBe(200);
      agentIds.set(provider, agent.body.id as string);
    }
    const environmentId = environment.body.id as string;
    const agentId = agentIds.get('anthropic')!;
    const sessions: LiveSession[] = [];
    const restarts: RestartRecord[] = [];
    let checked: Array<{ events: number; errors: number }> = [];

    // Each round: a new session (two in the first), a new turn on every session, then a restart mid-turn; the last
    // round runs without a restart (the sessions take new messages normally afterwards).
    for (let round = 0; round <= restartsWanted; round++) {
      for (let fresh = round === 0 ? 2 : 1; fresh > 0; fresh--) {
        const protocol = protocols[sessions.length % protocols.length]!;
        sessions.push(await createSession(agentIds.get(protocol)!, environmentId, protocol));
      }
      for (const session of sessions) await sendMessage(session, turnText(round, session));
      if (round < restartsWanted) {
        const modelCallStarted = async () => {
          for (const session of sessions) {
            const starts = (await events(session.id)).filter((event) => event.type === 'span.model_request_start');
            if (starts.length >= session.sent.length) return true;
          }
          return false;
        };
        await waitFor('a model call of this round', modelCallStarted);
        const killAfterMs = Math.floor(Math.random() * 1_500);
        await pause(killAfterMs);
        restarts.push(await restartTemporal(round, killAfterMs, sessions, agentId, environmentId));
      }
      // Until every turn has finished (session workers reconnecting, turns resuming), reads keep being served.
      let recovering = true;
      const readers = probe('recovering', recoveringRoutes, sessions, () => recovering);
      try {
        await waitFor(
          `round ${round}: every session's turn to finish`,
          async () => {
            for (const session of sessions) if (turnEnds(await events(session.id)) < session.sent.length) return false;
            return true;
          },
          120_000,
        );
      } finally {
        recovering = false;
      }
      const reads = await readers;
      expect(
        reads.filter((answer) => answer.status >= 500).map(({ route, status, body }) => ({ route, status, body })),
        `round ${round}: reads while the sessions recover`,
      ).toEqual([]);
      if (round < restartsWanted) restarts.at(-1)!.readsWhileRecovering = reads.length;
      checked = [];
      for (const session of sessions) checked.push(await verifySession(session));
    }

    // A session create that got a 503 while the server was down left nothing behind.
    const listed = await call('GET', '/v1/sessions?limit=100');
    expect((listed.body.data as Array<{ id: string }>).map((row) => row.id).sort()).toEqual(
      sessions.map((session) => session.id).sort(),
    );
    const turns = sessions.reduce((sum, session) => sum + session.sent.length, 0);
    const sessionErrors = checked.reduce((sum, session) => sum + session.errors, 0);
    console.log(
      `${restarts.length} restart(s), ${sessions.length} sessions, ${turns} turns verified: ${JSON.stringify(restarts)}`,
    );
    if (writeResults) writeRestartResults(restarts, sessions.length, turns, sessionErrors);
  },
);

function writeRestartResults(restarts: RestartRecord[], sessions: number, turns: number, sessionErrors: number): void {
  const command = `FAULTS_TEMPORAL_RESTARTS=${restarts.length} FAULTS_RESULTS=1 npx vitest run test/faults/temporal-restart.test.ts`;
  const requests = restarts.reduce((sum, restart) => sum + restart.requestsWhileDown, 0);
  const status503 = restarts.reduce((sum, restart) => sum + restart.status503, 0);
  const rows = restarts.map(
    (r) =>
      `| ${r.round + 1} | ${r.killAfterMs} | ${r.serverDownMs} | ${r.apiDownMs} | ${r.requestsWhileDown} | ` +
      `${r.readsWhileRecovering ?? 0} | ` +
      `${Object.entries(r.statuses)
        .map(([status, count]) => `${status}×${count}`)
        .join(', ')} |`,
  );
  writeResult(
    'faults-temporal-restart',
    {
      restarts: restarts.length,
      sessions,
      turns,
      requestsWhileDown: requests,
      status503,
      sessionErrors,
      perRestart: restarts,
    },
    [
      '## Fault injection: Temporal server restarts (long run)',
      '',
      `${restarts.length} SIGKILLs of the file-backed dev server, each at a random point (0–1.5 s after a model call ` +
        `of the round started) while ${sessions} sessions over the three model protocols ran turns (a new session ` +
        'and a new turn on every session each round); the server stayed down 0.5–2.5 s before it was started again, ' +
        'while a client kept calling the API.',
      '',
      '| restart | kill after model call (ms) | server down (ms) | API unhealthy (ms) | API requests meanwhile | ' +
        'reads until the turns finished (no 5xx) | statuses meanwhile |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      `Result: ${requests} API requests while the server was down or coming back, ${status503} of them 503 (with ` +
        '`retry-after` and the error shape), the rest reads served from PostgreSQL — never another 5xx; every ' +
        `write that got a 503 never landed. All ${sessions} sessions resumed and finished all ${turns} turns ` +
        '(`end_turn`), each answer exactly once, every log gap-free with unique ids; ' +
        `${sessionErrors} \`session.error\` events (model calls retried by the loop after the restart).`,
      '',
      'Found by this run: right after a restart, before the session workers polled the new server, a workflow query ' +
        'failed with FAILED_PRECONDITION ("no poller seen for task queue recently") and `GET /v1/sessions/{id}` ' +
        'answered 500; the API now counts it as a backing service out of reach (state from the journal on reads, ' +
        'else 503).',
      '',
      `Command: \`${command}\`.`,
    ],
    command,
  );
}
