// Session threads through the official SDK: a coordinator agent (`multiagent` roster) delegates to three threads in
// one response, which run at once as child workflows; one thread's always_ask backend tool is approved over HTTP
// through the session's event endpoint; the threads list, retrieve, events (list and stream, resumed with
// Last-Event-ID) answer; an interrupt reaches every running thread; the session's usage (retrieve and /v1/usage)
// adds up the primary's and every thread's model calls; archiving a thread and the session ends them.
import Anthropic from '@anthropic-ai/sdk';
import type { AgentCreateParams } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { BetaManagedAgentsStreamSessionEvents } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { primaryThreadId } from '../../domain/threads.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { recordHistory } from '../support/histories.ts';

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('session-threads', { workers: ['session', 'model', 'backend'] });
});
afterAll(async () => {
  await harness?.stop();
});

type StreamEvent = BetaManagedAgentsStreamSessionEvents;
type Seen = { type: string; id?: string; [key: string]: unknown };

const collect = (stream: AsyncIterable<unknown>, into: Seen[]) =>
  (async () => {
    for await (const event of stream) into.push(event as Seen);
  })();

const waitFor = (seen: Seen[], what: string, predicate: (event: Seen) => boolean, count = 1) =>
  eventually(
    async () => {
      const found = seen.filter(predicate);
      return found.length >= count ? found : undefined;
    },
    60_000,
    what,
  ).catch((error: unknown) => {
    // Shown whole on failure: what the stream did deliver.
    console.error(what, JSON.stringify(seen.map((event) => [event.type, event.session_thread_id ?? ''])));
    throw error;
  });

const noBuiltIns = { type: 'agent_toolset_20260401', default_config: { enabled: false } };

it('delegates to three threads at once; approval, streams, interrupt and usage through the SDK', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const prefix = harness.platform.prefix;
  const fake = harness.platform.fakeModel;
  const model = (name: string) => `${prefix}-${name}`;
  const tools = (extra: unknown[] = []) => [noBuiltIns, ...extra] as unknown as AgentCreateParams['tools'];

  const researcher = await client.beta.agents.create({
    name: 'researcher',
    model: model('researcher'),
    tools: tools(),
  });
  const writer = await client.beta.agents.create({ name: 'writer', model: model('writer'), tools: tools() });
  const refunder = await client.beta.agents.create({
    name: 'refunder',
    model: model('refunder'),
    tools: tools([
      {
        type: 'backend',
        name: 'refund_order',
        description: 'Refund an order',
        input_schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
        task_queue: harness.platform.backendQueue,
        activity: 'refundOrder',
        permission_policy: { type: 'always_ask' },
      },
    ]),
  });
  const lead = await client.beta.agents.create({
    name: 'lead',
    model: model('lead'),
    tools: tools(),
    multiagent: {
      type: 'coordinator',
      agents: [researcher.id, { type: 'agent', id: writer.id, version: 1 }, refunder.id, { type: 'self' }],
    },
  });
  expect(lead.multiagent).toEqual({
    type: 'coordinator',
    agents: [
      { type: 'agent', id: researcher.id, version: 1 },
      { type: 'agent', id: writer.id, version: 1 },
      { type: 'agent', id: refunder.id, version: 1 },
      { type: 'self' },
    ],
  });
  // The API's limits: a roster agent must not coordinate itself (depth 1), and entries are distinct.
  await expect(
    client.beta.agents.create({
      name: 'boss',
      model: model('boss'),
      multiagent: { type: 'coordinator', agents: [lead.id] },
    }),
  ).rejects.toMatchObject({ status: 400 });
  await expect(
    client.beta.agents.create({
      name: 'twice',
      model: model('twice'),
      multiagent: { type: 'coordinator', agents: [writer.id, { type: 'agent', id: writer.id }] },
    }),
  ).rejects.toMatchObject({ status: 400 });

  const delegate = (agent: string, message: string) => ({ name: 'delegate', input: { agent, message } });
  fake.setScript(model('lead'), [
    {
      text: 'Delegating.',
      toolCalls: [
        delegate('researcher', 'Find the order.'),
        delegate('writer', 'Draft the apology.'),
        delegate('refunder', 'Refund A-1001.'),
      ],
    },
    { text: 'All three answered.' },
    { toolCalls: [delegate('researcher', 'Dig deeper.'), delegate('writer', 'Write more.')] },
  ]);
  fake.setScript(model('researcher'), [
    { text: 'Order A-1001 found.' },
    { text: 'Digging very deep into the archives', chunkSize: 4, holdAfterFirstChunk: `${prefix}-r-hold` },
  ]);
  fake.setScript(model('writer'), [
    { text: 'Sorry for the trouble.' },
    { text: 'Writing a very long letter', chunkSize: 4, holdAfterFirstChunk: `${prefix}-w-hold` },
  ]);
  fake.setScript(model('refunder'), [
    { toolCalls: [{ name: 'refund_order', input: { order_id: 'A-1001' } }] },
    { text: 'Refunded A-1001.' },
  ]);

  const environment = await client.beta.environments.create({ name: `env-${prefix}` });
  const session = await client.beta.sessions.create({ agent: lead.id, environment_id: environment.id });
  expect(session.agent).toMatchObject({ id: lead.id, multiagent: { type: 'coordinator' } });
  const primary = primaryThreadId(session.id);

  const seen: Seen[] = [];
  const stream = await client.beta.sessions.events.stream(session.id);
  const reading = collect(stream, seen);
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Handle order A-1001.' }] }],
  });

  // Three threads, started by one model response, all running before any has answered.
  const created = await waitFor(seen, 'three threads', (event) => event.type === 'session.thread_created', 3);
  const threadOf = (agent: string) => created.find((event) => event.agent_name === agent)!.session_thread_id as string;
  const refunderThread = threadOf('refunder');

  // The refunder's always_ask call is cross-posted to the primary stream; the session waits for the client.
  const ask = (
    await waitFor(
      seen,
      'cross-posted ask',
      (event) => event.type === 'agent.tool_use' && event.session_thread_id === refunderThread,
    )
  )[0]!;
  await waitFor(
    seen,
    'requires_action',
    (event) =>
      event.type === 'session.status_idle' &&
      (event.stop_reason as { event_ids?: string[] }).event_ids?.includes(ask.id!) === true,
  );
  const refunderSeen: Seen[] = [];
  const refunderStream = await client.beta.sessions.threads.events.stream(refunderThread, { session_id: session.id });
  const refunderReading = collect(refunderStream, refunderSeen);
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.tool_confirmation', tool_use_id: ask.id!, result: 'allow' }],
  });
  await waitFor(
    seen,
    'end of turn 1',
    (event) => event.type === 'session.status_idle' && (event.stop_reason as { type: string }).type === 'end_turn',
  );
  await waitFor(refunderSeen, 'refunder tool result', (event) => event.type === 'agent.tool_result');
  refunderStream.controller.abort();
  await refunderReading;
  expect(refunderSeen.map((event) => event.type)).toEqual(
    expect.arrayContaining(['user.tool_confirmation', 'agent.tool_result', 'agent.thread_message_sent']),
  );

  // The primary's log: three messages sent and three replies received, one per thread.
  const sentTo = seen.filter((event) => event.type === 'agent.thread_message_sent').map((e) => e.to_session_thread_id);
  expect(new Set(sentTo)).toEqual(new Set(created.map((event) => event.session_thread_id)));
  expect(seen.filter((event) => event.type === 'agent.thread_message_received')).toHaveLength(3);
  expect(seen.find((event) => event.type === 'user.tool_confirmation')).toMatchObject({
    session_thread_id: refunderThread,
  });
  const results = seen.filter((event) => event.type === 'agent.tool_result');
  expect(results.map((event) => event.is_error)).toEqual([false, false, false]);

  // Threads: the primary first, then the three, with their parent and status.
  const threads = [];
  for await (const thread of client.beta.sessions.threads.list(session.id)) threads.push(thread);
  expect(threads[0]?.id).toBe(primary);
  expect(threads.slice(1).map((thread) => thread.id)).toEqual(
    expect.arrayContaining(created.map((event) => event.session_thread_id)),
  );
  expect(threads).toHaveLength(4);
  expect(threads[0]).toMatchObject({ parent_thread_id: null, session_id: session.id });
  for (const thread of threads.slice(1)) expect(thread).toMatchObject({ parent_thread_id: primary, status: 'idle' });
  const researcherThread = await client.beta.sessions.threads.retrieve(threadOf('researcher'), {
    session_id: session.id,
  });
  expect(researcherThread.agent).toMatchObject({ id: researcher.id, version: 1 });

  // A thread's events: listed, and streamed from the start with Last-Event-ID (the session stream's resume).
  const listed: Seen[] = [];
  for await (const event of client.beta.sessions.threads.events.list(threadOf('researcher'), {
    session_id: session.id,
  }))
    listed.push(event as Seen);
  expect(listed.map((event) => event.type)).toEqual([
    'agent.thread_message_received',
    'session.status_running',
    'span.model_request_start',
    'span.model_request_end',
    'agent.message',
    'agent.thread_message_sent',
    'session.status_idle',
  ]);
  const replayed: Seen[] = [];
  const replay = await client.beta.sessions.threads.events.stream(
    threadOf('researcher'),
    { session_id: session.id },
    { headers: { 'Last-Event-ID': '2' } },
  );
  const replaying = collect(replay, replayed);
  await waitFor(replayed, 'replayed thread events', () => true, listed.length - 2);
  replay.controller.abort();
  await replaying;
  expect(replayed.map((event) => event.id)).toEqual(listed.slice(2).map((event) => event.id));

  // Archive one thread: its workflow ends.
  const archived = await client.beta.sessions.threads.archive(threadOf('researcher'), { session_id: session.id });
  expect(archived.archived_at).not.toBeNull();
  await waitFor(
    seen,
    'archived thread terminated',
    (event) => event.type === 'session.thread_status_terminated' && event.session_thread_id === threadOf('researcher'),
  );

  // Turn 2: two new threads whose model calls hang; one interrupt stops them all and the session.
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Go deeper.' }] }],
  });
  const second = (await waitFor(seen, 'two more threads', (event) => event.type === 'session.thread_created', 5)).slice(
    3,
  );
  await eventually(
    async () =>
      fake.requests(model('researcher')).length >= 2 && fake.requests(model('writer')).length >= 2 ? true : undefined,
    60_000,
    'held model calls',
  );
  const interruptAt = seen.length;
  await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
  await waitFor(
    seen,
    'idle after interrupt',
    (event) =>
      seen.indexOf(event) >= interruptAt &&
      event.type === 'session.status_idle' &&
      (event.stop_reason as { type: string }).type === 'end_turn',
  );
  for (const thread of second) {
    const events: Seen[] = [];
    for await (const event of client.beta.sessions.threads.events.list(thread.session_thread_id as string, {
      session_id: session.id,
    }))
      events.push(event as Seen);
    expect(events.map((event) => event.type)).toContain('user.interrupt');
    expect(events.at(-1)?.type).toBe('session.status_idle');
  }

  // Usage: the session's figure is the primary's and every thread's model calls; the ledger says the same.
  const logs = [session.id, ...threads.slice(1).map((t) => t.id), ...second.map((e) => e.session_thread_id)];
  let inputTokens = 0;
  let outputTokens = 0;
  for (const log of logs) {
    const page =
      log === session.id
        ? client.beta.sessions.events.list(session.id)
        : client.beta.sessions.threads.events.list(log as string, { session_id: session.id });
    for await (const event of page) {
      const usage = (event as Seen).model_usage as { input_tokens: number; output_tokens: number } | undefined;
      inputTokens += usage?.input_tokens ?? 0;
      outputTokens += usage?.output_tokens ?? 0;
    }
  }
  expect(inputTokens).toBeGreaterThan(0);
  const retrieved = await client.beta.sessions.retrieve(session.id);
  expect(retrieved.usage).toMatchObject({ input_tokens: inputTokens, output_tokens: outputTokens });
  const ledger = (await (await harness.request(`/v1/usage?group_by=session`)).json()) as {
    data: { session_id: string; input_tokens: number; output_tokens: number }[];
  };
  expect(ledger.data.find((row) => row.session_id === session.id)).toMatchObject({
    input_tokens: inputTokens,
    output_tokens: outputTokens,
  });

  // Archiving the session ends every thread.
  await client.beta.sessions.archive(session.id);
  await eventually(
    async () => {
      const statuses = [];
      for await (const thread of client.beta.sessions.threads.list(session.id)) statuses.push(thread.status);
      return statuses.every((status) => status === 'terminated') ? statuses : undefined;
    },
    60_000,
    'every thread terminated',
  );
  await waitFor(seen, 'terminated threads', (event) => event.type === 'session.thread_status_terminated', 5);
  await waitFor(seen, 'terminated session', (event) => event.type === 'session.status_terminated');
  // Running time: the ledger meters every thread's running stretches under the session.
  let activeSeconds = 0;
  for await (const thread of client.beta.sessions.threads.list(session.id)) {
    activeSeconds += thread.stats?.active_seconds ?? 0;
  }
  const ledgerAfter = (await (await harness.request(`/v1/usage?group_by=session`)).json()) as {
    data: { session_id: string; active_seconds: number }[];
  };
  expect(activeSeconds).toBeGreaterThan(0);
  expect(ledgerAfter.data.find((row) => row.session_id === session.id)?.active_seconds).toBeCloseTo(activeSeconds, 2);
  stream.controller.abort();
  await reading;

  // A closed session's usage (read from the logs) still includes its threads'.
  expect((await client.beta.sessions.retrieve(session.id)).usage).toMatchObject({
    input_tokens: inputTokens,
    output_tokens: outputTokens,
  });

  // Deleting the session removes every thread's log with its own (only each log's session.deleted marker stays).
  await client.beta.sessions.delete(session.id);
  const threadLogs = [...threads.slice(1).map((thread) => thread.id), ...second.map((e) => e.session_thread_id)];
  const { rows: left } = await harness.platform.pool.query<{ n: string }>(
    `select count(*) as n from session_events where session_id = any($1) and type <> 'session.deleted'`,
    [threadLogs],
  );
  expect(Number(left[0]?.n)).toBe(0);

  await recordHistory(harness.platform.client, sessionWorkflowId(session.id), 'threads-coordinator');
  await recordHistory(harness.platform.client, sessionWorkflowId(refunderThread), 'threads-thread-approval');
  await recordHistory(
    harness.platform.client,
    sessionWorkflowId(second[0]!.session_thread_id as string),
    'threads-thread-interrupted',
  );
  expect((seen as unknown as StreamEvent[]).length).toBeGreaterThan(0);
});
