// Inline agents through the official SDK: a coordinator (`multiagent_20261001`, inline agents enabled) defines an
// agent in its `delegate` call; the thread runs it with only the tools it chose from the coordinator's, under the
// coordinator's permission policies (an always_ask tool still asks, answered over HTTP), on a model the coordinator
// may use; definitions asking for more (a tool or model the coordinator lacks, an invalid name) are refused as tool
// errors and the session goes on; the thread shows the definition (`type: "inline"`) on retrieve and in the list; a refusing thread reports stop_details.
import Anthropic from '@anthropic-ai/sdk';
import type { AgentCreateParams } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { recordHistory } from '../support/histories.ts';

let harness: ApiHarness;
let client: Anthropic;
beforeAll(async () => {
  harness = await startApiHarness('inline-agents', { workers: ['session', 'model', 'backend'] });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await harness?.stop();
});

type Seen = { type: string; id?: string; [key: string]: unknown };
const model = (name: string) => `${harness.platform.prefix}-${name}`;

async function listEvents(sessionId: string, threadId?: string): Promise<Seen[]> {
  const listed: Seen[] = [];
  const page = threadId
    ? client.beta.sessions.threads.events.list(threadId, { session_id: sessionId })
    : client.beta.sessions.events.list(sessionId);
  for await (const event of page) listed.push({ ...event });
  return listed;
}

it('accepts inline agents for threads (enabled by default), refuses them in workflow plans', async () => {
  const agent = await client.beta.agents.create({
    name: 'inliner',
    model: model('inliner'),
    multiagent: { type: 'multiagent_20261001', subagents: { type: 'enabled' } },
  });
  expect(agent.multiagent).toMatchObject({
    type: 'multiagent_20261001',
    subagents: { type: 'enabled', inline_agents: { type: 'enabled' }, predefined_agents: [] },
  });
  const plans = client.beta.agents.create({
    name: 'planner',
    model: model('planner'),
    multiagent: { type: 'multiagent_20261001', workflows: { type: 'enabled', inline_agents: { type: 'enabled' } } },
  });
  await expect(plans).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/workflow run/) });
});

it('spawns a thread of an inline agent within the coordinator’s tools, policies and models', async () => {
  const fake = harness.platform.fakeModel;
  const noBuiltIns = { type: 'agent_toolset_20260401', default_config: { enabled: false } };
  const refundTool = {
    type: 'backend',
    name: 'refund_order',
    description: 'Refund an order',
    input_schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
    task_queue: harness.platform.backendQueue,
    activity: 'refundOrder',
    permission_policy: { type: 'always_ask' },
  };
  const noteTool = {
    type: 'custom',
    name: 'write_note',
    description: 'Write a note for the customer',
    input_schema: { type: 'object', properties: { text: { type: 'string' } } },
  };
  const helper = await client.beta.agents.create({ name: 'helper', model: model('helper') });
  const lead = await client.beta.agents.create({
    name: 'lead',
    model: model('lead'),
    tools: [noBuiltIns, refundTool, noteTool] as unknown as AgentCreateParams['tools'],
    multiagent: {
      type: 'multiagent_20261001',
      subagents: { type: 'enabled', inline_agents: { type: 'enabled' }, predefined_agents: [helper.id] },
      workflows: { type: 'disabled' },
    },
  });
  const inline = (definition: Record<string, unknown>, message = 'Refund A-1001.') => ({
    name: 'delegate',
    input: { inline_agent: definition, message },
  });
  const refunder = {
    name: 'refunder',
    description: 'Refunds orders',
    system: 'You refund orders, nothing else.',
    model: model('helper'),
    tools: ['refund_order'],
  };
  fake.setScript(model('lead'), [
    {
      toolCalls: [
        inline(refunder),
        inline({ name: 'root', tools: ['bash'] }), // a tool the coordinator does not have
        inline({ name: 'pricey', model: 'claude-opus-4-9' }), // a model it may not use
        inline({ name: '' }), // not a valid definition
        inline({ name: 'helper' }), // a listed agent's name
      ],
    },
    { text: 'Refunded through an inline agent.' },
  ]);
  fake.setScript(model('helper'), [
    { toolCalls: [{ name: 'refund_order', input: { order_id: 'A-1001' } }] },
    { text: 'Refunded A-1001.' },
  ]);

  const environment = await client.beta.environments.create({ name: `inline-${harness.platform.prefix}` });
  const session = await client.beta.sessions.create({ agent: lead.id, environment_id: environment.id });
  expect(session.agent.multiagent).toMatchObject({ inline_agents: true });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Refund order A-1001.' }] }],
  });

  // The thread's always_ask call is cross-posted and waits for the client, as it would for the coordinator.
  const ask = await eventually(
    async () =>
      (await listEvents(session.id)).find((event) => event.type === 'agent.tool_use' && event.session_thread_id),
    60_000,
    'the inline thread asks',
  );
  expect(ask).toMatchObject({ name: 'refund_order', evaluated_permission: 'ask' });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.tool_confirmation', tool_use_id: ask.id!, result: 'allow' }],
  });
  const events = await eventually(
    async () => {
      const listed = await listEvents(session.id);
      const done = listed.some(
        (event) => event.type === 'session.status_idle' && (event.stop_reason as { type: string }).type === 'end_turn',
      );
      return done ? listed : undefined;
    },
    60_000,
    'the end of the turn',
  );

  // One thread, of the inline agent; the other four definitions were refused as tool errors.
  const created = events.filter((event) => event.type === 'session.thread_created');
  expect(created).toEqual([expect.objectContaining({ agent_name: 'refunder', workflow_run_id: null })]);
  const threadId = created[0]!.session_thread_id as string;
  // Results in the order of the calls (the refused ones answer at once, the thread's when it has replied).
  const calls = events.filter((event) => event.type === 'agent.tool_use' && event.name === 'delegate');
  const results = calls.map((call) =>
    events.find((event) => event.type === 'agent.tool_result' && event.tool_use_id === call.id)!,
  );
  const text = (event: Seen) => JSON.stringify(event.content);
  expect(results.map((event) => event.is_error)).toEqual([false, true, true, true, true]);
  expect(text(results[0]!)).toContain('Refunded A-1001.');
  expect(text(results[1]!)).toMatch(/not available to inline agents: bash/);
  expect(text(results[2]!)).toMatch(/claude-opus-4-9.*not available/);
  expect(text(results[3]!)).toMatch(/Invalid input for delegate: inline_agent\.name/);
  expect(text(results[4]!)).toMatch(/already listed/);

  // The thread ran the definition: its system prompt, its model, only the tool it chose (no delegate: depth 1).
  const [threadRequest] = fake.requests(model('helper'));
  expect(threadRequest?.body.system).toContain('You refund orders, nothing else.');
  expect(((threadRequest?.body.tools ?? []) as { name: string }[]).map((tool) => tool.name)).toEqual(['refund_order']);
  const threadEvents = await listEvents(session.id, threadId);
  expect(threadEvents.find((event) => event.type === 'agent.tool_result')).toMatchObject({ is_error: false });

  // Retrieve and list show the inline definition.
  const thread = await client.beta.sessions.threads.retrieve(threadId, { session_id: session.id });
  expect(thread.agent).toMatchObject({
    type: 'inline',
    name: 'refunder',
    description: 'Refunds orders',
    system: 'You refund orders, nothing else.',
    model: { id: model('helper') },
    skills: [],
    mcp_servers: [],
  });
  expect(JSON.stringify(thread.agent)).toContain('refund_order');
  expect(JSON.stringify(thread.agent)).not.toContain('write_note');
  expect(thread.parent_thread_id).not.toBeNull();
  const listed = [];
  for await (const each of client.beta.sessions.threads.list(session.id)) listed.push(each);
  expect(listed.map((each) => each.agent.type)).toEqual(['agent', 'inline']);

  await client.beta.sessions.archive(session.id);
  await recordHistory(harness.platform.client, sessionWorkflowId(session.id), 'inline-agent-thread');
});

it('reports a thread whose model refused with stop_details on session.thread_status_idle', async () => {
  const fake = harness.platform.fakeModel;
  const lead = await client.beta.agents.create({
    name: 'lead2',
    model: model('lead2'),
    multiagent: { type: 'multiagent_20261001', subagents: { type: 'enabled' }, workflows: { type: 'disabled' } },
  });
  // The inline agent runs the coordinator's model: its turn is the script's next one.
  fake.setScript(model('lead2'), [
    { toolCalls: [{ name: 'delegate', input: { inline_agent: { name: 'asker' }, message: 'Write malware.' } }] },
    { text: 'No.', stopReason: 'refusal', refusal: { category: 'cyber', explanation: 'Malware.' } },
    { text: 'The thread refused.' },
  ]);
  const environment = await client.beta.environments.create({ name: `refusal-${harness.platform.prefix}` });
  const session = await client.beta.sessions.create({ agent: lead.id, environment_id: environment.id });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Go.' }] }],
  });
  const idle = await eventually(
    async () => (await listEvents(session.id)).find((event) => event.type === 'session.thread_status_idle'),
    60_000,
    'the thread idle',
  );
  expect(idle).toMatchObject({
    agent_name: 'asker',
    stop_reason: { type: 'refusal' },
    stop_details: { type: 'refusal', category: 'cyber', explanation: 'Malware.' },
  });
  await client.beta.sessions.archive(session.id);
});
