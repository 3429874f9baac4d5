// The agent's multiagent configuration through the official SDK: the coordinator roster with an advisor, the
// multiagent_20261001 form (resolved, merged on update, inline agents in plans refused) and the advisor consulted by the
// primary thread; the retired `sub_agent` tool is refused (on create, on update, and when a session would pin an agent
// stored with one before it was retired).
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAgent } from '../../db/repositories/agents.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { recordHistory } from '../support/histories.ts';

let harness: ApiHarness;
let client: Anthropic;
beforeAll(async () => {
  harness = await startApiHarness('multiagent-config', { workers: ['session', 'model'] });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await harness?.stop();
});

const model = (name: string) => `${harness.platform.prefix}-${name}`;

it('refuses the retired sub_agent tool with a 400 that names multiagent', async () => {
  const child = await client.beta.agents.create({ name: 'child', model: model('child') });
  const subAgentTool = { type: 'sub_agent', name: 'research', description: 'Research', agent: child.id };
  const created = client.beta.agents.create({ name: 'old', model: model('old'), tools: [subAgentTool] as never });
  await expect(created).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/multiagent/) });

  const agent = await client.beta.agents.create({ name: 'new', model: model('new') });
  const updated = client.beta.agents.update(agent.id, { version: 1, tools: [subAgentTool] as never });
  await expect(updated).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/sub_agent.*retired/) });

  // An agent stored with one before the tool was retired cannot start new sessions.
  const legacy = await createAgent(harness.platform.pool, harness.tenant.tenantId, {
    name: 'legacy',
    description: null,
    system: null,
    model: { id: model('legacy') },
    tools: [{ ...subAgentTool, type: 'sub_agent', agent: { type: 'agent', id: child.id } }],
    mcp_servers: [],
    skills: [],
    metadata: {},
  });
  const environment = await client.beta.environments.create({ name: `env-${harness.platform.prefix}` });
  const session = client.beta.sessions.create({ agent: legacy.id, environment_id: environment.id });
  await expect(session).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/multiagent/) });
});

it('accepts an advisor in a coordinator roster, at most one, in its place', async () => {
  const helper = await client.beta.agents.create({ name: 'helper', model: model('helper') });
  const lead = await client.beta.agents.create({
    name: 'lead',
    model: model('lead'),
    multiagent: { type: 'coordinator', agents: [{ type: 'advisor', model: model('advisor') }, helper.id] },
  });
  expect(lead.multiagent).toEqual({
    type: 'coordinator',
    agents: [
      { type: 'advisor', model: model('advisor') },
      { type: 'agent', id: helper.id, version: 1 },
    ],
  });
  const twoAdvisors = client.beta.agents.create({
    name: 'two',
    model: model('two'),
    multiagent: {
      type: 'coordinator',
      agents: [
        { type: 'advisor', model: 'a' },
        { type: 'advisor', model: 'b' },
      ],
    },
  });
  await expect(twoAdvisors).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/one advisor/) });
});

it('accepts multiagent_20261001, resolved and merged on update; refuses inline agents in plans with a 400', async () => {
  const helper = await client.beta.agents.create({ name: 'helper', model: model('helper2') });
  const agent = await client.beta.agents.create({
    name: 'modern',
    model: model('modern'),
    multiagent: {
      type: 'multiagent_20261001',
      advisor: { type: 'enabled', model: model('advisor') },
      subagents: { type: 'enabled', predefined_agents: [helper.id] },
    },
  });
  expect(agent.multiagent).toEqual({
    type: 'multiagent_20261001',
    advisor: { type: 'enabled', model: model('advisor') },
    subagents: {
      type: 'enabled',
      inline_agents: { type: 'enabled' },
      predefined_agents: [{ type: 'agent', id: helper.id, version: 1 }],
    },
    workflows: { type: 'enabled', inline_agents: { type: 'disabled' }, predefined_agents: [] },
  });
  // An update merges level by level: only the advisor changes.
  const updated = await client.beta.agents.update(agent.id, {
    version: 1,
    multiagent: { type: 'multiagent_20261001', advisor: { type: 'disabled' }, workflows: { type: 'disabled' } },
  });
  expect(updated.multiagent).toEqual({
    type: 'multiagent_20261001',
    advisor: { type: 'disabled' },
    subagents: {
      type: 'enabled',
      inline_agents: { type: 'enabled' },
      predefined_agents: [{ type: 'agent', id: helper.id, version: 1 }],
    },
    workflows: { type: 'disabled' },
  });
  const inline = client.beta.agents.create({
    name: 'inline',
    model: model('inline'),
    multiagent: { type: 'multiagent_20261001', workflows: { type: 'enabled', inline_agents: { type: 'enabled' } } },
  });
  await expect(inline).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/inline agents/) });
  const empty = client.beta.agents.create({
    name: 'empty',
    model: model('empty'),
    multiagent: { type: 'multiagent_20261001', subagents: { type: 'enabled', inline_agents: { type: 'disabled' } } },
  });
  await expect(empty).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/at least one agent/) });
});

it('lets the primary thread consult its advisor: a side call whose answer is the tool result and whose usage counts', async () => {
  const fake = harness.platform.fakeModel;
  const agent = await client.beta.agents.create({
    name: 'advised',
    model: model('advised'),
    multiagent: {
      type: 'multiagent_20261001',
      advisor: { type: 'enabled', model: model('oracle') },
      subagents: { type: 'disabled' },
      workflows: { type: 'disabled' },
    },
  });
  fake.setScript(model('advised'), [
    {
      toolCalls: [{ name: 'consult_advisor', input: { question: 'Plan A or plan B for the migration?' } }],
      usage: { inputTokens: 100, outputTokens: 10 },
    },
    { text: 'Going with plan B.', usage: { inputTokens: 120, outputTokens: 12 } },
  ]);
  fake.setScript(model('oracle'), [
    { text: 'Plan B: it keeps the old histories replaying.', usage: { inputTokens: 50, outputTokens: 5 } },
  ]);
  const environment = await client.beta.environments.create({ name: `advisor-${harness.platform.prefix}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  expect(session.agent.multiagent).toMatchObject({ type: 'coordinator', advisor: { model: model('oracle') } });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Which plan?' }] }],
  });
  const events = await eventually(async () => {
    const listed: Record<string, unknown>[] = [];
    for await (const event of client.beta.sessions.events.list(session.id)) listed.push({ ...event });
    return listed.some((event) => event.type === 'session.status_idle') ? listed : undefined;
  });
  const result = events.find((event) => event.type === 'agent.tool_result');
  expect(JSON.stringify(result?.content)).toContain('Plan B: it keeps the old histories replaying.');
  expect(result?.is_error).toBeFalsy();
  const [advisorRequest] = fake.requests(model('oracle'));
  expect(JSON.stringify(advisorRequest?.body.messages)).toContain('Plan A or plan B for the migration?');
  // Subagents and workflows disabled: the advisor is the only platform tool offered.
  const offered = (fake.requests(model('advised'))[0]?.body.tools ?? []) as { name: string }[];
  expect(offered.map((tool) => tool.name)).toEqual(['consult_advisor']);

  // The advisor's request is the session's: journaled as a model request between the tool call and its result,
  // its tokens in the session's usage (live, and read back from the log once closed) and in the tenant's ledger.
  const types = events.map((event) => event.type);
  const advisorSpan = types.indexOf('span.model_request_start', types.indexOf('agent.tool_use'));
  expect(advisorSpan).toBeGreaterThan(types.indexOf('agent.tool_use'));
  expect(advisorSpan).toBeLessThan(types.indexOf('agent.tool_result'));
  const ends = events.filter((event) => event.type === 'span.model_request_end');
  expect(ends.map((event) => event.model_usage)).toEqual([
    expect.objectContaining({ input_tokens: 100, output_tokens: 10 }),
    expect.objectContaining({ input_tokens: 50, output_tokens: 5 }),
    expect.objectContaining({ input_tokens: 120, output_tokens: 12 }),
  ]);
  const total = { input_tokens: 270, output_tokens: 27 };
  expect((await client.beta.sessions.retrieve(session.id)).usage).toMatchObject(total);
  const ledger = (await (await harness.request('/v1/usage?group_by=session')).json()) as {
    data: { session_id: string; input_tokens: number; output_tokens: number; model_requests: number }[];
  };
  expect(ledger.data.find((row) => row.session_id === session.id)).toMatchObject({ ...total, model_requests: 3 });
  await client.beta.sessions.archive(session.id);
  expect((await client.beta.sessions.retrieve(session.id)).usage).toMatchObject(total);
  await recordHistory(harness.platform.client, sessionWorkflowId(session.id), 'advisor-usage-counted');
});
