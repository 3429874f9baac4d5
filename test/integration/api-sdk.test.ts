// The API driven by the official @anthropic-ai/sdk (only baseURL changed): agents with versions, an environment, a
// vault, a session whose agent calls a custom tool (answered with user.custom_tool_result) and an always_ask backend
// tool (confirmed; a second answer refused by the session's verdict), streamed and listed events, then archive and
// delete — every response parsed by the SDK.
import Anthropic from '@anthropic-ai/sdk';
import type { AgentCreateParams } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { BetaManagedAgentsStreamSessionEvents } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { recordHistory } from '../support/histories.ts';

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('api-sdk');
});
afterAll(async () => {
  await harness?.stop();
});

type StreamEvent = BetaManagedAgentsStreamSessionEvents;
type EventOf<T extends StreamEvent['type']> = Extract<StreamEvent, { type: T }>;

/** The first event of `type` (matching `predicate`) the stream has delivered, waiting for it if need be. */
const waitForEvent = <T extends StreamEvent['type']>(
  seen: StreamEvent[],
  type: T,
  predicate: (event: EventOf<T>) => boolean = () => true,
) =>
  eventually(
    async () => seen.find((event): event is EventOf<T> => event.type === type && predicate(event as EventOf<T>)),
    30_000,
    type,
  );

it('runs agents, environments, vaults, sessions and events through the SDK', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const model = `${harness.platform.prefix}-sdk`;
  const orderSchema = { type: 'object' as const, properties: { order_id: { type: 'string' } }, required: ['order_id'] };

  const agent = await client.beta.agents.create({
    name: 'support',
    model,
    system: 'Be brief.',
    tools: [
      { type: 'agent_toolset_20260401', default_config: { enabled: false } },
      {
        type: 'custom',
        name: 'get_weather',
        description: 'The weather in a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
      // Extension: a backend tool (an activity on the operator's queue) that asks before running.
      {
        type: 'backend',
        name: 'refund_order',
        description: 'Refund an order',
        input_schema: orderSchema,
        task_queue: harness.platform.backendQueue,
        activity: 'refundOrder',
        permission_policy: { type: 'always_ask' },
      },
    ] as unknown as AgentCreateParams['tools'],
  });
  expect(agent).toMatchObject({ type: 'agent', version: 1, name: 'support', model: { id: model } });
  expect(agent.id).toMatch(/^agent_/);

  const updated = await client.beta.agents.update(agent.id, { version: 1, description: 'Helps customers' });
  expect(updated.version).toBe(2);
  await expect(client.beta.agents.update(agent.id, { version: 1, description: 'stale' })).rejects.toMatchObject({
    status: 409,
  });
  const versions: number[] = [];
  for await (const version of client.beta.agents.versions.list(agent.id, { limit: 1 })) versions.push(version.version);
  expect(versions).toEqual([2, 1]);
  expect((await client.beta.agents.retrieve(agent.id, { version: 1 })).description).toBeNull();

  const environmentName = `env-${harness.platform.prefix}`;
  const environment = await client.beta.environments.create({
    name: environmentName,
    config: { type: 'cloud', networking: { type: 'unrestricted' } },
  });
  expect(environment).toMatchObject({ type: 'environment', name: environmentName, config: { type: 'cloud' } });
  await expect(client.beta.environments.create({ name: environmentName })).rejects.toMatchObject({ status: 409 });

  const vault = await client.beta.vaults.create({ display_name: 'ops' });
  const credential = await client.beta.vaults.credentials.create(vault.id, {
    auth: { type: 'static_bearer', mcp_server_url: 'https://mcp.example.com/mcp', token: 'not-returned' },
  });
  expect(credential.auth).toEqual({ type: 'static_bearer', mcp_server_url: 'https://mcp.example.com/mcp' });

  harness.platform.fakeModel.setScript(model, [
    { text: 'Checking the weather.', toolCalls: [{ name: 'get_weather', input: { city: 'Paris' } }] },
    { toolCalls: [{ name: 'refund_order', input: { order_id: 'A-1001' } }] },
    { text: 'Refunded A-1001; it is sunny in Paris.' },
  ]);
  const session = await client.beta.sessions.create({
    agent: agent.id,
    environment_id: environment.id,
    title: 'SDK test',
    vault_ids: [vault.id],
  });
  expect(session).toMatchObject({ type: 'session', status: 'idle', title: 'SDK test', vault_ids: [vault.id] });
  expect(session.agent).toMatchObject({ id: agent.id, version: 2 });

  // Open the stream before sending (Anthropic's advice), and collect what it yields.
  const stream = await client.beta.sessions.events.stream(session.id);
  const seen: StreamEvent[] = [];
  const reading = (async () => {
    for await (const event of stream) seen.push(event);
  })();

  const sent = await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Refund A-1001 and tell me the weather.' }] }],
  });
  expect(sent.data?.[0]).toMatchObject({ type: 'user.message', processed_at: null });
  expect(sent.data?.[0]?.id).toMatch(/^sevt_/);

  const customUse = await waitForEvent(seen, 'agent.custom_tool_use');
  await waitForEvent(
    seen,
    'session.status_idle',
    (event) => event.stop_reason.type === 'requires_action' && event.stop_reason.event_ids.includes(customUse.id),
  );
  await client.beta.sessions.events.send(session.id, {
    events: [
      { type: 'user.custom_tool_result', custom_tool_use_id: customUse.id, content: [{ type: 'text', text: 'sunny' }] },
    ],
  });

  const ask = await waitForEvent(seen, 'agent.tool_use', (event) => event.evaluated_permission === 'ask');
  await waitForEvent(
    seen,
    'session.status_idle',
    (event) => event.stop_reason.type === 'requires_action' && event.stop_reason.event_ids.includes(ask.id),
  );
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.tool_confirmation', tool_use_id: ask.id, result: 'allow' }],
  });
  await waitForEvent(seen, 'session.status_idle', (event) => event.stop_reason.type === 'end_turn');
  const toolResult = await waitForEvent(seen, 'agent.tool_result', (event) => event.tool_use_id === ask.id);
  expect(toolResult).toMatchObject({ is_error: false });
  // The session's verdict on an answer nobody awaits any more: 400 in the one error shape, nothing in history.
  await expect(
    client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.tool_confirmation', tool_use_id: ask.id, result: 'deny' }],
    }),
  ).rejects.toMatchObject({
    status: 400,
    error: {
      type: 'error',
      error: { type: 'invalid_request_error', message: `no tool use ${ask.id} is awaiting confirmation` },
    },
  });
  stream.controller.abort();
  await reading;

  // The listing (paged by 4) holds exactly what the stream delivered, in order.
  const listed: string[] = [];
  for await (const event of client.beta.sessions.events.list(session.id, { limit: 4 })) listed.push(event.id);
  expect(listed).toEqual(seen.map((event) => ('id' in event ? event.id : '')));
  expect(seen.map((event) => event.type)).toEqual(
    expect.arrayContaining([
      'user.message',
      'session.status_running',
      'agent.message',
      'agent.custom_tool_use',
      'user.custom_tool_result',
      'agent.tool_use',
      'user.tool_confirmation',
      'agent.tool_result',
      'span.model_request_end',
    ]),
  );

  const retrieved = await client.beta.sessions.retrieve(session.id);
  expect(retrieved.status).toBe('idle');
  expect(retrieved.usage.input_tokens).toBeGreaterThan(0);
  expect(retrieved.usage.output_tokens).toBeGreaterThan(0);
  expect(retrieved.stats.duration_seconds).toBeGreaterThanOrEqual(0);
  const listedSessions: string[] = [];
  for await (const item of client.beta.sessions.list({ statuses: ['idle'] })) listedSessions.push(item.id);
  expect(listedSessions).toContain(session.id);

  const archived = await client.beta.sessions.archive(session.id);
  expect(archived.archived_at).not.toBeNull();
  expect(archived.status).toBe('terminated');
  await recordHistory(harness.platform.client, sessionWorkflowId(session.id), 'user-events-update');
  await expect(
    client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'hi' }] }],
    }),
  ).rejects.toMatchObject({ status: 409 });
  expect(await client.beta.sessions.delete(session.id)).toEqual({ id: session.id, type: 'session_deleted' });
  await expect(client.beta.sessions.retrieve(session.id)).rejects.toMatchObject({ status: 404 });

  const usage = (await (await harness.request('/v1/usage')).json()) as { total: { input_tokens: number } };
  expect(usage.total.input_tokens).toBeGreaterThanOrEqual(0);
  expect((await client.beta.agents.archive(agent.id)).archived_at).not.toBeNull();
  expect((await client.beta.environments.delete(environment.id)).type).toBe('environment_deleted');
});

it('accepts whatever anthropic-version the SDKs send, or none', async () => {
  // The SDKs pin 2023-06-01 today; a newer SDK, another language's SDK or a plain HTTP client may send another value.
  for (const version of ['2023-06-01', '2099-12-31', 'not-a-date', null]) {
    const client = new Anthropic({
      apiKey: harness.tenant.apiKey,
      baseURL: harness.baseURL,
      maxRetries: 0,
      defaultHeaders: { 'anthropic-version': version },
    });
    const page = await client.beta.agents.list({ limit: 1 });
    expect(Array.isArray(page.data), String(version)).toBe(true);
  }
});

it("ends a turn the model refused with stop_reason refusal and the provider's stop_details", async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const model = `${harness.platform.prefix}-refusal`;
  const explanation = 'The request could enable malware development.';
  harness.platform.fakeModel.setScript(model, [
    { text: 'I cannot help with that.', stopReason: 'refusal', refusal: { category: 'cyber', explanation } },
    { text: 'Happy to help with that.' },
  ]);
  const agent = await client.beta.agents.create({ name: 'refuser', model });
  const environment = await client.beta.environments.create({ name: `refusal ${agent.id}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Something you will not do.' }] }],
  });
  const idle = await eventually(
    async () => {
      for await (const event of client.beta.sessions.events.list(session.id)) {
        if (event.type === 'session.status_idle') return event;
      }
      return undefined;
    },
    30_000,
    'session.status_idle',
  );
  expect(idle.stop_reason).toEqual({ type: 'refusal' });
  expect(idle.stop_details).toEqual({ type: 'refusal', category: 'cyber', explanation });
  // The session stays usable; a turn that ends normally reports no details.
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Something harmless.' }] }],
  });
  const idles = await eventually(
    async () => {
      const found: { stop_reason: unknown; stop_details: unknown }[] = [];
      for await (const event of client.beta.sessions.events.list(session.id)) {
        if (event.type === 'session.status_idle') found.push(event);
      }
      return found.length >= 2 ? found : undefined;
    },
    30_000,
    'a second session.status_idle',
  );
  expect(idles[1]).toMatchObject({ stop_reason: { type: 'end_turn' }, stop_details: null });
  const messages: string[] = [];
  for await (const event of client.beta.sessions.events.list(session.id)) {
    if (event.type === 'agent.message')
      messages.push(event.content.map((block) => (block.type === 'text' ? block.text : '')).join(''));
  }
  expect(messages).toEqual(['I cannot help with that.', 'Happy to help with that.']);
  await client.beta.sessions.archive(session.id);
});

it('writes agent.thinking to the log, before the answer, with the id its live deltas carried', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const model = `${harness.platform.prefix}-thinking`;
  harness.platform.fakeModel.setScript(model, [{ thinking: 'Two plus two is four.', text: '4' }]);
  const agent = await client.beta.agents.create({ name: 'thinker', model });
  const environment = await client.beta.environments.create({ name: `thinking ${agent.id}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: '2 + 2?' }] }],
  });
  const events = await eventually(
    async () => {
      const listed: StreamEvent[] = [];
      for await (const event of client.beta.sessions.events.list(session.id)) listed.push(event);
      return listed.some((event) => event.type === 'session.status_idle') ? listed : undefined;
    },
    30_000,
    'session.status_idle',
  );
  const types = events.map((event) => event.type).filter((type) => type.startsWith('agent.'));
  expect(types).toEqual(['agent.thinking', 'agent.message']);
  const thinking = events.find((event) => event.type === 'agent.thinking');
  expect(thinking).toMatchObject({ id: expect.stringMatching(/^sevt_/), processed_at: expect.any(String) });
  await client.beta.sessions.archive(session.id);
  await recordHistory(harness.platform.client, sessionWorkflowId(session.id), 'agent-thinking-event');
});

it('journals session.updated with what an update through the SDK changed', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const model = `${harness.platform.prefix}-updated`;
  const agent = await client.beta.agents.create({ name: 'updated', model });
  const environment = await client.beta.environments.create({ name: `updated ${agent.id}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id, title: 'a' });
  await client.beta.sessions.update(session.id, { title: 'b' });
  await client.beta.sessions.update(session.id, { metadata: { team: 'ops' } });
  await client.beta.sessions.update(session.id, { title: 'b' }); // nothing changed: no event
  await client.beta.sessions.update(session.id, { metadata: { team: null } }); // cleared: no metadata in the event
  const updates = await eventually(
    async () => {
      const listed: Record<string, unknown>[] = [];
      for await (const event of client.beta.sessions.events.list(session.id)) {
        if (event.type === 'session.updated') listed.push({ ...event });
      }
      return listed.length === 3 ? listed : undefined;
    },
    30_000,
    'three session.updated events',
  );
  expect(updates.map(({ id, ...rest }) => ({ id: String(id).slice(0, 5), ...rest }))).toEqual([
    { id: 'sevt_', processed_at: expect.any(String), type: 'session.updated', title: 'b' },
    { id: 'sevt_', processed_at: expect.any(String), type: 'session.updated', metadata: { team: 'ops' } },
    { id: 'sevt_', processed_at: expect.any(String), type: 'session.updated' },
  ]);
  await client.beta.sessions.archive(session.id);
  await client.beta.sessions.update(session.id, { title: 'after the end' }); // saved; an ended session logs nothing
  expect((await client.beta.sessions.retrieve(session.id)).title).toBe('after the end');
  await recordHistory(harness.platform.client, sessionWorkflowId(session.id), 'session-updated');
});

it('surfaces a model provider billing refusal (402) as session.error billing_error, not retried', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const model = `${harness.platform.prefix}-billing`;
  harness.platform.fakeModel.setScript(model, [{ fault: { type: 'http', status: 402, message: 'credit exhausted' } }]);
  const agent = await client.beta.agents.create({ name: 'unpaid', model });
  const environment = await client.beta.environments.create({ name: `billing ${agent.id}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'hello' }] }],
  });
  const events = await eventually(
    async () => {
      const listed: StreamEvent[] = [];
      for await (const event of client.beta.sessions.events.list(session.id)) listed.push(event);
      return listed.some((event) => event.type === 'session.status_idle') ? listed : undefined;
    },
    30_000,
    'session.status_idle',
  );
  const errors = events.filter((event) => event.type === 'session.error');
  expect(errors).toEqual([
    expect.objectContaining({
      error: expect.objectContaining({ type: 'billing_error', retry_status: { type: 'exhausted' } }),
    }),
  ]);
  expect(harness.platform.fakeModel.faults(model)).toHaveLength(1);
  await client.beta.sessions.archive(session.id);
});
