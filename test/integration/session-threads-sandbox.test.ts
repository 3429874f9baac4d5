// A session's threads share its sandbox (as Anthropic's session threads share the session's container): through the
// official SDK, a coordinator delegates to a writer thread, which writes a file with its `write` tool, then to a reader
// thread, which reads it with `bash`; the coordinator reads it too. One container served all three.
import Anthropic from '@anthropic-ai/sdk';
import Docker from 'dockerode';
import type { AgentCreateParams } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readEvents } from '../../db/repositories/session-events.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { recordHistory } from '../support/histories.ts';

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('threads-sandbox', { workers: ['session', 'model', 'sandbox'] });
});
afterAll(async () => {
  await harness?.stop();
});

const docker = new Docker();
const sandboxTools = [{ type: 'agent_toolset_20260401' }] as AgentCreateParams['tools'];

it('a file one thread writes is read by another thread and by the coordinator', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const prefix = harness.platform.prefix;
  const fake = harness.platform.fakeModel;
  const model = (name: string) => `${prefix}-${name}`;
  const writer = await client.beta.agents.create({ name: 'writer', model: model('writer'), tools: sandboxTools });
  const reader = await client.beta.agents.create({ name: 'reader', model: model('reader'), tools: sandboxTools });
  const lead = await client.beta.agents.create({
    name: 'lead',
    model: model('lead'),
    tools: sandboxTools,
    multiagent: { type: 'coordinator', agents: [writer.id, reader.id] },
  });
  const secret = `shared-${prefix}`;
  const delegate = (agent: string, message: string) => ({ name: 'delegate', input: { agent, message } });
  fake.setScript(model('lead'), [
    { toolCalls: [delegate('writer', 'Write the note.')] },
    { toolCalls: [delegate('reader', 'Read the note.')] },
    { toolCalls: [{ name: 'bash', input: { command: 'cat /workspace/note.txt' } }] },
    { text: 'Everyone saw the note.' },
  ]);
  fake.setScript(model('writer'), [
    { toolCalls: [{ name: 'write', input: { path: '/workspace/note.txt', content: secret } }] },
    { text: 'Written.' },
  ]);
  fake.setScript(model('reader'), [
    { toolCalls: [{ name: 'bash', input: { command: 'cat /workspace/note.txt' } }] },
    { text: 'Read it.' },
  ]);

  const environment = await client.beta.environments.create({ name: `env-${prefix}` });
  const session = await client.beta.sessions.create({ agent: lead.id, environment_id: environment.id });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Pass the note around.' }] }],
  });
  await eventually(
    async () => {
      const events = await readEvents(harness.platform.pool, session.id);
      return events.some(({ event }) => event.type === 'session.status_idle') ? true : undefined;
    },
    120_000,
    'the turn to end',
  ).catch(async (error: unknown) => {
    console.error(JSON.stringify((await readEvents(harness.platform.pool, session.id)).map(({ event }) => event)));
    throw error;
  });

  const threads: { id: string; name: string }[] = [];
  for await (const thread of client.beta.sessions.threads.list(session.id)) {
    threads.push({ id: thread.id, name: 'name' in thread.agent ? thread.agent.name : '' });
  }
  const threadOf = (name: string) => threads.find((thread) => thread.name === name)!.id;
  const toolResults = async (logId: string) =>
    (await readEvents(harness.platform.pool, logId)).flatMap(({ event }) =>
      event.type === 'agent.tool_result' ? [event] : [],
    );
  const textOf = (result: { content?: { text: string }[] }) => (result.content ?? []).map((b) => b.text).join('');

  const written = await toolResults(threadOf('writer'));
  expect(written).toHaveLength(1);
  expect(written[0]!.is_error).toBeFalsy();
  const read = await toolResults(threadOf('reader'));
  expect(read.map(textOf)).toEqual([expect.stringContaining(secret)]);
  const primaryResults = (await toolResults(session.id)).filter((result) => textOf(result).includes(secret));
  expect(primaryResults.length).toBeGreaterThanOrEqual(1);

  // One container, labelled with the session's id, did all of it; none was made for a thread.
  const containersOf = (owner: string) =>
    docker.listContainers({ all: true, filters: { label: [`io.temporal-agents.session=${owner}`] } });
  expect(await containersOf(session.id)).toHaveLength(1);
  for (const thread of threads) expect(await containersOf(thread.id)).toEqual([]);

  await client.beta.sessions.archive(session.id);
  await recordHistory(harness.platform.client, sessionWorkflowId(session.id), 'threads-shared-sandbox-primary');
  await recordHistory(harness.platform.client, sessionWorkflowId(threadOf('reader')), 'threads-shared-sandbox-thread');
});
