// The usage ledger through /v1/usage (SDK client): a turn whose coordinator delegates to a session thread is metered
// as it happens — tokens per model with their price, running time per session, the thread's counted as its
// session's — and the ledger's totals equal what the session's and its thread's events say; deleting the session keeps its bill; time ranges and grouping; a
// sandbox's running time is metered when it stops; and a tenant over its daily model budget has its next turn end
// with `budget_reached`, without an error event.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { issueApiKey } from '../../db/repositories/api-keys.ts';
import { readEvents, usageBySession } from '../../db/repositories/session-events.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';

let harness: ApiHarness;
let client: Anthropic;
beforeAll(async () => {
  harness = await startApiHarness('usage-ledger', { workers: ['session', 'model', 'sandbox', 'backend'] });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await harness?.stop();
});

interface UsageRow {
  session_id?: string;
  model?: string | null;
  day?: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  model_requests: number;
  active_seconds: number;
  sandbox_seconds: number;
  cost_usd: number;
}
interface Usage {
  data: UsageRow[];
  total: UsageRow;
}
const usage = (query: Record<string, string> = {}) => client.get<Usage>('/v1/usage', { query });

const idleReasons = async (sessionId: string) =>
  (await readEvents(harness.platform.pool, sessionId)).flatMap(({ event }) =>
    event.type === 'session.status_idle' ? [event.stop_reason.type] : [],
  );

it('meters tokens and running time as they happen, equal to the events, and keeps them after deletion', async () => {
  const { prefix } = harness.platform;
  const parentModel = `${prefix}-lead`;
  // Priced by the built-in table's prefix match (claude-haiku-4-5: $1 / $5 per million tokens).
  const childModel = `claude-haiku-4-5-${prefix}`;
  harness.platform.fakeModel.setScript(parentModel, [
    { toolCalls: [{ name: 'delegate', input: { agent: 'researcher', message: 'Find the answer.' } }] },
    { text: 'The researcher says 42.' },
  ]);
  harness.platform.fakeModel.setScript(childModel, [{ text: 'The answer is 42.' }]);
  const child = await client.beta.agents.create({ name: 'researcher', model: childModel });
  const parent = await client.beta.agents.create({
    name: 'lead',
    model: parentModel,
    multiagent: { type: 'coordinator', agents: [child.id] },
  });
  const environment = await client.beta.environments.create({ name: `usage-${prefix}` });
  const session = await client.beta.sessions.create({ agent: parent.id, environment_id: environment.id });
  const before = new Date().toISOString();
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Ask the researcher.' }] }],
  });
  await eventually(async () => ((await idleReasons(session.id)).length === 1 ? true : undefined), 60_000);

  // One session in the ledger: the thread's tokens and running time are its session's.
  const [row] = await eventually(async () => {
    const rows = (await usage()).data;
    return rows.length === 1 && rows[0]!.model_requests === 3 && rows[0]!.active_seconds > 0 ? rows : undefined;
  });
  expect(row!.session_id).toBe(session.id);
  const threadIds = (await readEvents(harness.platform.pool, session.id)).flatMap(({ event }) =>
    event.type === 'session.thread_created' ? [event.session_thread_id] : [],
  );
  expect(threadIds).toHaveLength(1);
  const fromEvents = [...(await usageBySession(harness.platform.pool, [session.id, ...threadIds])).values()];
  const sum = (key: keyof (typeof fromEvents)[number]) => fromEvents.reduce((total, entry) => total + entry[key], 0);
  expect(row).toMatchObject({
    input_tokens: sum('input_tokens'),
    output_tokens: sum('output_tokens'),
    cache_read_input_tokens: sum('cache_read_input_tokens'),
    cache_creation_input_tokens: sum('cache_creation_input_tokens'),
    model_requests: sum('model_requests'),
  });
  // Eventually: the thread's last running stretch is metered when its idle status is written.
  await eventually(async () => {
    const [latest] = (await usage()).data;
    const expected = [...(await usageBySession(harness.platform.pool, [session.id, ...threadIds])).values()].reduce(
      (total, entry) => total + entry.active_seconds,
      0,
    );
    return Math.abs(latest!.active_seconds - expected) < 0.01 ? true : undefined;
  });
  const { total } = await usage();
  expect(total.model_requests).toBe(3);

  // Per model, priced when used.
  const byModel = new Map((await usage({ group_by: 'model' })).data.map((row) => [row.model, row]));
  const childRow = byModel.get(childModel)!;
  expect(childRow.model_requests).toBe(1);
  expect(childRow.cost_usd).toBeCloseTo((childRow.input_tokens * 1 + childRow.output_tokens * 5) / 1_000_000, 9);
  expect(byModel.get(parentModel)).toMatchObject({ model_requests: 2, cost_usd: 0 });

  // Time ranges and grouping by day.
  expect((await usage({ ending_at: before, group_by: 'none' })).total.model_requests).toBe(0);
  expect((await usage({ starting_at: before, group_by: 'none' })).total.model_requests).toBe(3);
  const days = (await usage({ group_by: 'day' })).data;
  expect(days).toEqual([expect.objectContaining({ day: new Date().toISOString().slice(0, 10), model_requests: 3 })]);
  await expect(usage({ starting_at: 'yesterday' })).rejects.toMatchObject({ status: 400 });

  // Deleting the session keeps its bill.
  await client.beta.sessions.delete(session.id);
  const after = await usage();
  expect(after.total.model_requests).toBe(total.model_requests);
  expect(after.total.input_tokens).toBe(total.input_tokens);
  expect(after.total.output_tokens).toBe(total.output_tokens);
  expect(after.total.active_seconds).toBeGreaterThanOrEqual(total.active_seconds);
  console.log(
    `ledger: ${total.model_requests} model requests, ${total.input_tokens + total.output_tokens} tokens, ` +
      `${total.active_seconds.toFixed(3)} s running in 1 session (with its thread); equal to the events; kept after deletion`,
  );
});

it('meters sandbox running time when the container stops', async () => {
  const model = `${harness.platform.prefix}-sandbox`;
  harness.platform.fakeModel.setScript(model, [
    { toolCalls: [{ name: 'bash', input: { command: 'sleep 1; echo metered' } }] },
    { text: 'done' },
  ]);
  const agent = await client.beta.agents.create({
    name: 'sandboxed',
    model,
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  const environment = await client.beta.environments.create({ name: `sandbox-${harness.platform.prefix}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  const started = performance.now();
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'run it' }] }],
  });
  await eventually(async () => ((await idleReasons(session.id)).length === 1 ? true : undefined), 120_000);
  // Deleting the session removes its container, which ends the running stretch.
  await client.beta.sessions.delete(session.id);
  const row = await eventually(async () => {
    const found = (await usage()).data.find((entry) => entry.session_id === session.id);
    return found && found.sandbox_seconds > 0 ? found : undefined;
  });
  const elapsed = (performance.now() - started) / 1000;
  expect(row.sandbox_seconds).toBeGreaterThanOrEqual(1);
  expect(row.sandbox_seconds).toBeLessThanOrEqual(elapsed + 1);
  console.log(`sandbox metered ${row.sandbox_seconds.toFixed(2)} s running (session lived ${elapsed.toFixed(2)} s)`);
});

it('ends a turn with budget_reached once the tenant has used its daily model tokens', async () => {
  const { key } = await issueApiKey(harness.platform.pool, { tenantId: null, name: 'ops', scope: 'admin' });
  const admin = new Anthropic({ apiKey: key, baseURL: harness.baseURL, maxRetries: 0 });
  // The first test used tokens today; a limit of 1 is over.
  await admin.post(`/v1/admin/tenants/${harness.tenant.tenantId}`, { body: { limits: { model_tokens_per_day: 1 } } });
  const model = `${harness.platform.prefix}-budget`;
  harness.platform.fakeModel.setScript(model, [{ text: 'never said' }]);
  const agent = await client.beta.agents.create({ name: 'budget', model });
  const environment = await client.beta.environments.create({ name: `budget-${harness.platform.prefix}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'hello' }] }],
  });
  await eventually(async () => ((await idleReasons(session.id)).length === 1 ? true : undefined), 60_000);
  expect(await idleReasons(session.id)).toEqual(['budget_reached']);
  const types = (await readEvents(harness.platform.pool, session.id)).map(({ event }) => event.type);
  expect(types).not.toContain('session.error');
  expect(types).not.toContain('agent.message');
});
