// The usage ledger through /v1/usage (SDK client): a turn whose agent calls a sub-agent is metered as it happens —
// tokens per model with their price, running time per session, the sub-agent's session included — and the ledger's
// totals equal what the sessions' events say; deleting the session keeps its bill; time ranges and grouping; a
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
    { toolCalls: [{ name: 'researcher', input: { prompt: 'Find the answer.' } }] },
    { text: 'The researcher says 42.' },
  ]);
  harness.platform.fakeModel.setScript(childModel, [{ text: 'The answer is 42.' }]);
  const child = await client.beta.agents.create({ name: 'researcher', model: childModel });
  const parent = await client.beta.agents.create({
    name: 'lead',
    model: parentModel,
    tools: [{ type: 'sub_agent', name: 'researcher', description: 'Researches', agent: child.id }] as never,
  });
  const environment = await client.beta.environments.create({ name: `usage-${prefix}` });
  const session = await client.beta.sessions.create({ agent: parent.id, environment_id: environment.id });
  const before = new Date().toISOString();
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Ask the researcher.' }] }],
  });
  await eventually(async () => ((await idleReasons(session.id)).length === 1 ? true : undefined), 60_000);

  // Two sessions in the ledger: the parent and its sub-agent (which has no sessions row of its own).
  const bySession = await eventually(async () => {
    const rows = (await usage()).data;
    return rows.length === 2 && rows.every((row) => row.active_seconds > 0) ? rows : undefined;
  });
  const sessionIds = bySession.map((row) => row.session_id!);
  expect(sessionIds).toContain(session.id);
  const fromEvents = await usageBySession(harness.platform.pool, sessionIds);
  for (const row of bySession) {
    const expected = fromEvents.get(row.session_id!)!;
    expect(row).toMatchObject({
      input_tokens: expected.input_tokens,
      output_tokens: expected.output_tokens,
      cache_read_input_tokens: expected.cache_read_input_tokens,
      cache_creation_input_tokens: expected.cache_creation_input_tokens,
      model_requests: expected.model_requests,
    });
    expect(row.active_seconds).toBeCloseTo(expected.active_seconds, 3);
  }
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
      `${total.active_seconds.toFixed(3)} s running over 2 sessions (one a sub-agent); equal to the events; kept after deletion`,
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
