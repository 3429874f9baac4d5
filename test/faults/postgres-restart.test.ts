// Fault injection: stop PostgreSQL mid-turn (a fast shutdown, as `pg_ctl stop` does), keep it down a few seconds,
// start it again. This file runs its own PostgreSQL cluster (the suite's shared one stays up for the other files), the
// session, model and sandbox workers and the API as processes on it, and drives the session through the Anthropic SDK.
// Every process stays up (before the fix, the first idle pooled connection to die threw an unhandled 'error' and took
// its worker down), the API answers 503 with retry-after meanwhile (never another 5xx), and the turn finishes with its
// tool effect applied once.
import { mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import type pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { readEvents } from '../../db/repositories/session-events.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { createPool } from '../../db/pool.ts';
import { createTenantWithKey } from '../../db/repositories/tenants.ts';
import type { SessionEvent } from '../../domain/events.ts';
import { freePort, startProcess, waitUntil, type ManagedProcess } from '../../scripts/services/process.ts';
import { startLocalPostgres, type LocalPostgres } from '../../scripts/services/postgres.ts';
import { projectRoot, readToolsEnv } from '../../scripts/services/tools-env.ts';
import { startFakeModelServer, type FakeModelServer } from '../fake-model/server.ts';
import { testContainerLabels, uniquePrefix } from '../support/platform.ts';
import { startWorkerProcess, type WorkerFamily } from '../support/worker-processes.ts';

const prefix = uniquePrefix('faults-postgres');
const runDir = mkdtempSync(join(tmpdir(), 'agents-faults-postgres-'));
chmodSync(runDir, 0o755); // the postgres system user must reach its data folder inside
let pgPort: number;
let postgres: LocalPostgres | undefined;
let pool: pg.Pool;
let fakeModel: FakeModelServer;
let apiUrl: string;
let apiKey: string;
const processes = new Map<WorkerFamily | 'api', ManagedProcess>();

const startPostgres = async () =>
  startLocalPostgres({
    binDir: readToolsEnv().pgBinDir ?? '',
    dataDir: join(runDir, 'pg'),
    port: pgPort,
    logFile: join(runDir, 'postgres.log'),
    ephemeral: true,
  });

beforeAll(async () => {
  pgPort = await freePort();
  postgres = await startPostgres();
  await migrateDatabase(postgres.url);
  pool = createPool({ url: postgres.url, max: 3 });
  fakeModel = await startFakeModelServer();
  const labels = Object.entries(testContainerLabels()).map(([key, value]) => `${key}=${value}`);
  for (const family of ['session', 'model', 'sandbox'] as const) {
    processes.set(
      family,
      await startWorkerProcess(family, {
        prefix,
        fakeModelUrl: fakeModel.url,
        extraEnv: {
          DATABASE_URL: postgres.url,
          ...(family === 'sandbox'
            ? { AGENTS_SANDBOX_HOST_ID: 'pg-restart-host', AGENTS_SANDBOX_EXTRA_LABELS: labels.join(',') }
            : {}),
        },
      }),
    );
  }
  const apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  const api = startProcess('api', process.execPath, ['--import', 'tsx', join(projectRoot, 'api/main.ts')], {
    logFile: join(runDir, 'api.log'),
    cwd: projectRoot,
    env: {
      ...process.env,
      DATABASE_URL: postgres.url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      AGENTS_TASK_QUEUE_PREFIX: prefix,
      AGENTS_SANDBOX_IMAGE: inject('sandboxImage'),
      API_PORT: String(apiPort),
      AGENTS_CODEC_PORT: '0',
      LOG_LEVEL: 'info',
    },
  });
  processes.set('api', api);
  await waitUntil('API', async () => (await fetch(`${apiUrl}/health`)).ok, { process: api, timeoutMs: 60_000 });
  apiKey = (await createTenantWithKey(pool, `tenant ${prefix}`)).apiKey;
}, 180_000);

afterAll(async () => {
  await Promise.all([...processes.values()].map((child) => child.stop('SIGKILL')));
  await fakeModel?.close();
  await pool?.end();
  await postgres?.process.stop('SIGINT');
  rmSync(runDir, { recursive: true, force: true });
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const events = async (sessionId: string): Promise<SessionEvent[]> =>
  (await readEvents(pool, sessionId)).map((entry) => entry.event);
const alive = (child: ManagedProcess) => child.child.exitCode === null && child.child.signalCode === null;

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(100);
  }
}

const idleCount = async (sessionId: string) =>
  (await events(sessionId)).filter((event) => event.type === 'session.status_idle').length;

it(
  'every process stays up through a PostgreSQL restart mid-turn; the API answers 503 meanwhile; the turn finishes once',
  {
    timeout: 300_000,
  },
  async () => {
    const client = new Anthropic({ apiKey, baseURL: apiUrl, maxRetries: 0 });
    const environment = await client.beta.environments.create({ name: `pg-restart-${prefix}` });
    const agent = await client.beta.agents.create({
      name: 'pg-restart',
      model: `${prefix}-model`,
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    const line = `effect-${randomUUID()}`;
    // The fake model's unscripted mode turns "run: <cmd>" into a bash call, and answers a tool result with text.
    await client.beta.sessions.events.send(session.id, {
      events: [
        {
          type: 'user.message',
          content: [{ type: 'text', text: `run: echo ${line} >> /workspace/effects.txt; sleep 3` }],
        },
      ],
    });
    await waitFor('the tool call', async () =>
      (await events(session.id)).some((event) => event.type === 'agent.tool_use') ? true : undefined,
    );

    // Down: a fast shutdown while the tool runs; its result, the journal writes and the next model call meet no server.
    await postgres!.process.stop('SIGINT');
    const statuses: number[] = [];
    const downUntil = Date.now() + 6_000;
    while (Date.now() < downUntil) {
      for (const path of [`/v1/sessions/${session.id}`, `/v1/sessions/${session.id}/events`, '/v1/agents']) {
        const response = await fetch(`${apiUrl}${path}`, { headers: { 'x-api-key': apiKey } });
        statuses.push(response.status);
        if (response.status === 503) {
          expect(response.headers.get('retry-after')).toBeTruthy();
          expect(((await response.json()) as { type: string }).type).toBe('error');
        } else await response.body?.cancel();
      }
      await pause(200);
    }
    for (const [name, child] of processes) expect(alive(child), `${name} is up while PostgreSQL is down`).toBe(true);

    // Up again: the turn finishes.
    postgres = await startPostgres();
    await waitFor('the turn to end', async () => ((await idleCount(session.id)) >= 1 ? true : undefined));
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'run: cat /workspace/effects.txt' }] }],
    });
    await waitFor('the second turn to end', async () => ((await idleCount(session.id)) >= 2 ? true : undefined));

    for (const [name, child] of processes) {
      expect(alive(child), `${name} is still up (log: ${child.logFile})`).toBe(true);
    }
    expect(statuses.filter((status) => status >= 500 && status !== 503)).toEqual([]);
    expect(statuses).toContain(503);

    const journaled = await readEvents(pool, session.id);
    const log = journaled.map((entry) => entry.event);
    expect(journaled.map((entry) => entry.seq)).toEqual(journaled.map((_, index) => index + 1));
    expect(new Set(log.map((event) => event.id)).size).toBe(log.length);
    const toolUses = log.filter((event) => event.type === 'agent.tool_use');
    const toolResults = log.filter((event) => event.type === 'agent.tool_result');
    expect(toolUses).toHaveLength(2);
    expect(toolResults.map((event) => event.tool_use_id).sort()).toEqual(toolUses.map((event) => event.id).sort());
    const readBack = (toolResults.at(-1)?.content ?? []).map((block) => block.text).join('');
    expect(readBack.trim().split('\n')).toEqual([line]);
    const idles = log.filter((event) => event.type === 'session.status_idle');
    expect(idles.map((event) => event.stop_reason.type)).toEqual(['end_turn', 'end_turn']);
    const retries = log.filter((event) => event.type === 'session.error').length;
    console.log(
      `PostgreSQL down ~6 s mid-tool: ${statuses.length} API requests meanwhile (${statuses.filter((s) => s === 503).length} × 503), ` +
        `${retries} model retries announced, turn finished, effect applied once; ` +
        `API log ${readFileSync(join(runDir, 'api.log'), 'utf8').split('\n').length} lines`,
    );
    await client.beta.sessions.delete(session.id);
  },
);
