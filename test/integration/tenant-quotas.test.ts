// Quotas, rate limits and Idempotency-Key through the SDK: one tenant flooding session creation gets 429s (the one
// error shape, retry-after) while a second tenant's latency is measured before and during the flood (reported, not
// asserted: no test asserts on wall-clock time); a tenant at its running-session limit gets 429 for a message that
// would start one more; the same Idempotency-Key and body answer the same, a different body 409.
// QUOTAS_RESULTS=1 also writes bench/results/tenant-isolation.json and its README section.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeResult, stats } from '../../bench/support/results.ts';
import { readEvents } from '../../db/repositories/session-events.ts';
import { issueApiKey } from '../../db/repositories/api-keys.ts';
import { journalStatusOf } from '../../db/repositories/sessions.ts';
import { projectRoot } from '../../scripts/services/tools-env.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';

let harness: ApiHarness;
let admin: Anthropic;
beforeAll(async () => {
  harness = await startApiHarness('quotas');
  const { key } = await issueApiKey(harness.platform.pool, { tenantId: null, name: 'ops', scope: 'admin' });
  admin = sdk(key);
});
afterAll(async () => {
  await harness?.stop();
});

const sdk = (apiKey: string) => new Anthropic({ apiKey, baseURL: harness.baseURL, maxRetries: 0 });

/** A tenant with limits, its full key, an environment and an agent. */
async function tenantWith(name: string, limits: Record<string, number>) {
  const tenant = await admin.post<{ id: string }>('/v1/admin/tenants', { body: { name, limits } });
  const { key } = await admin.post<{ key: string }>(`/v1/admin/tenants/${tenant.id}/api_keys`, { body: {} });
  const client = sdk(key);
  const model = `${harness.platform.prefix}-${name}`;
  const agent = await client.beta.agents.create({ name, model });
  const environment = await client.beta.environments.create({ name: `${name}-${harness.platform.prefix}` });
  return { tenantId: tenant.id, key, client, model, agent, environment };
}

const createSession = (key: string, agentId: string, environmentId: string) =>
  fetch(`${harness.baseURL}/v1/sessions`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ agent: agentId, environment_id: environmentId }),
  });

it('answers Idempotency-Key: the same request replays, a different body is 409, tenants do not share keys', async () => {
  const a = await tenantWith('idem-a', {});
  const b = await tenantWith('idem-b', {});
  const options = { headers: { 'Idempotency-Key': 'create-agent-1' } };
  const first = await a.client.beta.agents.create({ name: 'once', model: a.model }, options).withResponse();
  const again = await a.client.beta.agents.create({ name: 'once', model: a.model }, options).withResponse();
  expect(again.data.id).toBe(first.data.id);
  expect(again.response.headers.get('idempotent-replayed')).toBe('true');
  expect(first.response.headers.get('idempotent-replayed')).toBeNull();
  await expect(a.client.beta.agents.create({ name: 'twice', model: a.model }, options)).rejects.toMatchObject({
    status: 409,
  });
  const other = await b.client.beta.agents.create({ name: 'once', model: b.model }, options);
  expect(other.id).not.toBe(first.data.id);
  // Sessions too (every creating POST): one workflow, one id.
  const sessionOptions = { headers: { 'Idempotency-Key': 'session-1' } };
  const params = { agent: a.agent.id, environment_id: a.environment.id };
  const s1 = await a.client.beta.sessions.create(params, sessionOptions);
  const s2 = await a.client.beta.sessions.create(params, sessionOptions);
  expect(s2.id).toBe(s1.id);
});

it('takes over a claim its API process left unanswered: the retry re-sends the same events, the session sees them once', async () => {
  const a = await tenantWith('idem-crash', {});
  harness.platform.fakeModel.setScript(a.model, [{ text: 'once' }, { text: 'twice' }]);
  const session = await a.client.beta.sessions.create({ agent: a.agent.id, environment_id: a.environment.id });
  const key = `message-${harness.platform.prefix}`;
  const body = { events: [{ type: 'user.message' as const, content: [{ type: 'text' as const, text: 'hello' }] }] };
  const options = { headers: { 'Idempotency-Key': key } };
  const first = await a.client.beta.sessions.events.send(session.id, body, options);
  const turns = async () =>
    (await readEvents(harness.platform.pool, session.id)).filter((entry) => entry.event.type === 'agent.message');
  await eventually(async () => ((await turns()).length === 1 ? true : undefined), 30_000, 'the first turn');
  // As if the API process had died after handing the events on and before storing its answer: the claim stays open.
  const forget = (age: string) =>
    harness.platform.pool.query(
      `update idempotency_keys set status = null, content_type = null, body = null,
         created_at = now() - $2::interval where key = $1`,
      [key, age],
    );
  await forget('1 second');
  // Within the lease the first request may still be running: 409, as before.
  await expect(a.client.beta.sessions.events.send(session.id, body, options)).rejects.toMatchObject({ status: 409 });
  await forget('2 minutes');
  const retried = await a.client.beta.sessions.events.send(session.id, body, options);
  expect(retried.data?.map((event) => event.id)).toEqual(first.data?.map((event) => event.id));
  // Another message after it proves the retry was taken in order and ignored: one message each, two turns in all.
  await a.client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'again' }] }],
  });
  await eventually(async () => ((await turns()).length === 2 ? true : undefined), 30_000, 'the second turn');
  const log = (await readEvents(harness.platform.pool, session.id)).map((entry) => entry.event);
  const messages = log.filter((event) => event.type === 'user.message');
  expect(messages.map((event) => event.id)).toEqual([first.data?.[0]?.id, expect.any(String)]);
  expect(await turns()).toHaveLength(2);
  // Session creation the same way: the retry returns the session the first attempt made, no second workflow.
  const createOptions = { headers: { 'Idempotency-Key': `${key}-create` } };
  const params = { agent: a.agent.id, environment_id: a.environment.id };
  const made = await a.client.beta.sessions.create(params, createOptions);
  await harness.platform.pool.query(
    `update idempotency_keys set status = null, content_type = null, body = null,
       created_at = now() - interval '2 minutes' where key = $1`,
    [`${key}-create`],
  );
  const remade = await a.client.beta.sessions.create(params, createOptions);
  expect(remade.id).toBe(made.id);
});

it('isolates tenants: a flood of session creation gets 429s, the other tenant is measured alongside', async () => {
  const flooder = await tenantWith('flooder', { requests_per_second: 2 });
  const steady = await tenantWith('steady', {});
  const baseline = { ms: [] as number[], statuses: [] as number[] };
  const during = { ms: [] as number[], statuses: [] as number[] };
  // CPU of this process (the API and the steady client) per second of each kind of window: what the flood costs it.
  const cpu = { baseline: { cpuMs: 0, wallMs: 0 }, during: { cpuMs: 0, wallMs: 0 } };
  const sample = async (count: number, into: { ms: number[]; statuses: number[] }) => {
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    const window = into === baseline ? cpu.baseline : cpu.during;
    for (let index = 0; index < count; index++) {
      const started = performance.now();
      const response = await createSession(steady.key, steady.agent.id, steady.environment.id);
      into.ms.push(performance.now() - started);
      into.statuses.push(response.status);
      await response.body?.cancel();
    }
    const used = process.cpuUsage(cpuBefore);
    window.cpuMs += (used.user + used.system) / 1000;
    window.wallMs += performance.now() - wallBefore;
  };
  // The flooder runs in its own process (8 unpaced loops), so what is measured is the API's isolation, not this
  // process's CPU; windows with and without the flood alternate, so the machine's own drift hits both alike.
  const flood = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(projectRoot, 'test/support/flooder-process.ts'),
      `${harness.baseURL}/v1/sessions`,
      flooder.key,
      JSON.stringify({ agent: flooder.agent.id, environment_id: flooder.environment.id }),
      '8',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const replies = createInterface({ input: flood.stdout })[Symbol.asyncIterator]();
  const tell = (word: string) => flood.stdin.write(`${word}\n`);
  let floodMs = 0;
  try {
    for (let window = 0; window < 6; window++) {
      if (window % 2 === 0) {
        await sample(10, baseline);
        continue;
      }
      tell('on');
      const on = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await sample(10, during);
      tell('off');
      floodMs += performance.now() - on;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  } finally {
    tell('report');
  }
  const counts = JSON.parse(String((await replies.next()).value)) as {
    ok: number;
    limited: number;
    other: number;
    limitedWithoutRetryAfter: number;
    wrongShape: number;
  };
  tell('exit');
  await new Promise((resolve) => flood.once('exit', resolve));
  const floodSeconds = floodMs / 1000;

  expect(baseline.statuses.every((status) => status === 200)).toBe(true);
  expect(during.statuses.every((status) => status === 200)).toBe(true);
  expect(counts.limited).toBeGreaterThan(0);
  expect(counts).toMatchObject({ other: 0, limitedWithoutRetryAfter: 0, wrongShape: 0 });

  const figures = {
    steadyBaselineMs: stats(baseline.ms),
    steadyDuringFloodMs: stats(during.ms),
    flood: {
      seconds: Math.round(floodSeconds * 10) / 10,
      accepted: counts.ok,
      limited429: counts.limited,
      loops: 8,
      offeredPerSecond: Math.round((counts.ok + counts.limited) / floodSeconds),
    },
    flooderLimit: '2 requests/s',
    apiProcessCpuMsPerSecond: {
      baseline: Math.round(cpu.baseline.cpuMs / (cpu.baseline.wallMs / 1000)),
      duringFlood: Math.round(cpu.during.cpuMs / (cpu.during.wallMs / 1000)),
    },
  };
  const line =
    `steady tenant session create: baseline p50 ${figures.steadyBaselineMs.p50} ms p95 ${figures.steadyBaselineMs.p95} ms; ` +
    `during the flood p50 ${figures.steadyDuringFloodMs.p50} ms p95 ${figures.steadyDuringFloodMs.p95} ms; ` +
    `flooder (own process): ${counts.ok} accepted, ${counts.limited} × 429 in ${figures.flood.seconds} s ` +
    `(~${figures.flood.offeredPerSecond} requests/s); API process CPU ${figures.apiProcessCpuMsPerSecond.baseline} ms/s ` +
    `without the flood, ${figures.apiProcessCpuMsPerSecond.duringFlood} ms/s during it`;
  console.log(line);
  if (process.env.QUOTAS_RESULTS === '1') {
    writeResult('tenant-isolation', figures, [
      '## Tenant isolation: one tenant flooding session creation',
      '',
      'One tenant (limit 2 requests/s) creates sessions from 8 unpaced loops in its own process while a second tenant ' +
        'creates sessions one after another: 3 windows of 10 without the flood alternate with 3 windows of 10 during it.',
      '',
      `Result: ${line}. The flooder's overrun is answered 429 \`rate_limit_error\` with retry-after; the steady ` +
        'tenant got no 429.',
      '',
      'Command: `QUOTAS_RESULTS=1 npx vitest run test/integration/tenant-quotas.test.ts`.',
    ]);
  }
});

it('refuses a message that would start one session more than the tenant may run at once', async () => {
  const tenant = await tenantWith('running', { max_running_sessions: 1 });
  const hold = `${harness.platform.prefix}-hold`;
  harness.platform.fakeModel.setScript(tenant.model, [
    { text: 'a long answer', holdAfterFirstChunk: hold },
    { text: 'second' },
  ]);
  const params = { agent: tenant.agent.id, environment_id: tenant.environment.id };
  const first = await tenant.client.beta.sessions.create(params);
  const second = await tenant.client.beta.sessions.create(params);
  const message = { events: [{ type: 'user.message' as const, content: [{ type: 'text' as const, text: 'hi' }] }] };
  await tenant.client.beta.sessions.events.send(first.id, message);
  // Running in the journal, then in Temporal's visibility store (eventually consistent).
  await eventually(async () =>
    (await journalStatusOf(harness.platform.pool, first.id)) === 'running' ? true : undefined,
  );
  await eventually(async () => {
    const { count } = await harness.platform.client.workflow.count(
      `TenantId = '${tenant.tenantId}' AND SessionStatus = 'running'`,
    );
    return count === 1 ? true : undefined;
  });
  const refused = await fetch(`${harness.baseURL}/v1/sessions/${second.id}/events`, {
    method: 'POST',
    headers: { 'x-api-key': tenant.key, 'content-type': 'application/json' },
    body: JSON.stringify(message),
  });
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  // The running session itself may still queue messages.
  await tenant.client.beta.sessions.events.send(first.id, message);

  harness.platform.fakeModel.release(hold);
  const idles = async () =>
    (await readEvents(harness.platform.pool, first.id)).filter((entry) => entry.event.type === 'session.status_idle')
      .length;
  await eventually(async () => ((await idles()) === 2 ? true : undefined), 60_000);
  await eventually(async () => {
    const { count } = await harness.platform.client.workflow.count(
      `TenantId = '${tenant.tenantId}' AND SessionStatus = 'running'`,
    );
    return count === 0 ? true : undefined;
  });
  await tenant.client.beta.sessions.events.send(second.id, message);
});
