// A session reset in Temporal (what Temporal UI's "Reset" and `temporal workflow reset` do: ResetWorkflowExecution to
// an earlier workflow task). The reset run decides its events again from that task on, with the same seq numbers and
// fresh ids; they are appended to the session's log after the old run's, which stay: the list and the stream show
// both, in order, each event once; a retried model call of the reset run writes nothing twice; the next turn's
// transcript is the reset run's; the session then finishes (archived: its workflow completes). A workflow run reset
// between its phases runs its second phase again in a fresh thread, a child workflow of the reset run.
import Anthropic from '@anthropic-ai/sdk';
import type { AgentCreateParams } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { temporal as proto } from '@temporalio/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { recordHistory } from '../support/histories.ts';

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('session-reset');
});
afterAll(async () => {
  await harness?.stop();
});

type Seen = { type: string; id: string; [key: string]: unknown };
const orderSchema = { type: 'object' as const, properties: { order_id: { type: 'string' } }, required: ['order_id'] };

const line = (event: Seen): string =>
  event.type === 'agent.message'
    ? `agent.message ${(event.content as { text: string }[]).map((block) => block.text).join('')}`
    : event.type === 'session.status_idle'
      ? `session.status_idle ${(event.stop_reason as { type: string }).type}`
      : event.type;

async function listEvents(client: Anthropic, sessionId: string): Promise<Seen[]> {
  const events: Seen[] = [];
  for await (const event of client.beta.sessions.events.list(sessionId)) events.push(event as Seen);
  return events;
}

it('appends a reset run’s events after the old run’s, once each, and the session goes on and finishes', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const fake = harness.platform.fakeModel;
  const model = `${harness.platform.prefix}-reset`;
  const agent = await client.beta.agents.create({
    name: 'resettable',
    model,
    tools: [
      { type: 'agent_toolset_20260401', default_config: { enabled: false } },
      {
        type: 'backend',
        name: 'lookup_order',
        description: 'Look an order up',
        input_schema: orderSchema,
        task_queue: harness.platform.backendQueue,
        activity: 'lookupOrder',
      },
    ] as unknown as AgentCreateParams['tools'],
  });
  fake.setScript(model, [
    { text: 'Looking it up.', toolCalls: [{ name: 'lookup_order', input: { order_id: 'A-1' } }] },
    { text: 'Order A-1 shipped.' },
    // The reset run calls the model again: its first attempt fails (retryable), the retry answers.
    { fault: { type: 'http', status: 500 } },
    { text: 'Order A-1 shipped (again).' },
    { text: 'Bye.' },
  ]);
  const environment = await client.beta.environments.create({ name: `env-${harness.platform.prefix}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });

  const streamed: Seen[] = [];
  const stream = await client.beta.sessions.events.stream(session.id);
  const reading = (async () => {
    for await (const event of stream) streamed.push(event as Seen);
  })().catch(() => undefined);
  const idleTurns = (events: Seen[]) => events.filter((event) => line(event) === 'session.status_idle end_turn');
  const listedWith = (what: string, check: (events: Seen[]) => boolean) =>
    eventually(
      async () => {
        const events = await listEvents(client, session.id);
        return check(events) ? events : undefined;
      },
      60_000,
      what,
    );

  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Where is A-1?' }] }],
  });
  const before = await listedWith('the first turn', (events) => idleTurns(events).length === 1);
  expect(before.map(line)).toContain('agent.message Order A-1 shipped.');

  // Reset to the workflow task that took the backend tool's result (and called the model again).
  const temporal = harness.platform.client;
  const workflowId = sessionWorkflowId(session.id);
  const oldRun = await temporal.workflow.getHandle(workflowId).describe();
  const history = (await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const lookup = history.find(
    (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'lookupOrder',
  );
  const lookupDone = history.find(
    (event) => Number(event.activityTaskCompletedEventAttributes?.scheduledEventId ?? 0) === Number(lookup?.eventId),
  );
  const resetTo = history.find(
    (event) => event.workflowTaskCompletedEventAttributes && Number(event.eventId) > Number(lookupDone?.eventId),
  );
  expect(resetTo).toBeDefined();
  const reset = await temporal.workflowService.resetWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId, runId: oldRun.runId },
    workflowTaskFinishEventId: resetTo!.eventId,
    reason: 'test: reset to the tool result',
    requestId: `reset-${session.id}`,
  });
  expect(reset.runId).not.toBe(oldRun.runId);

  // The old run's events stay, in place; the reset run's follow, each once (ids unique across the log).
  const after = await listedWith('the reset run’s turn', (events) => idleTurns(events).length === 2);
  expect(after.slice(0, before.length).map((event) => event.id)).toEqual(before.map((event) => event.id));
  const tail = after.slice(before.length);
  expect(tail.map(line)).toEqual([
    'agent.tool_result',
    'span.model_request_start',
    'span.model_request_end',
    'session.error',
    'session.status_rescheduled',
    'session.status_running',
    'span.model_request_start',
    'span.model_request_end',
    'agent.message Order A-1 shipped (again).',
    'session.status_idle end_turn',
  ]);
  expect(new Set(after.map((event) => event.id)).size).toBe(after.length);

  // The stream (open since before the turn) sent the same events in the same order; a resume after the old run's
  // last event sends the reset run's.
  await eventually(async () => (streamed.length >= after.length ? true : undefined), 30_000, 'streamed');
  expect(streamed.map((event) => event.id)).toEqual(after.map((event) => event.id));
  const resumed: Seen[] = [];
  const replay = await client.beta.sessions.events.stream(
    session.id,
    {},
    {
      headers: { 'Last-Event-ID': String(before.length) },
    },
  );
  const replaying = (async () => {
    for await (const event of replay) resumed.push(event as Seen);
  })().catch(() => undefined);
  await eventually(async () => (resumed.length >= tail.length ? true : undefined), 30_000, 'resumed');
  replay.controller.abort();
  await replaying;
  expect(resumed.map((event) => event.id)).toEqual(tail.map((event) => event.id));

  // The next turn's transcript is the reset run's: its answer, not the old run's.
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Thanks.' }] }],
  });
  await listedWith('the next turn', (events) => idleTurns(events).length === 3);
  const lastRequest = JSON.stringify(fake.requests(model).at(-1)?.body);
  expect(lastRequest).toContain('Order A-1 shipped (again).');
  expect(lastRequest).not.toContain('Order A-1 shipped.');
  expect(lastRequest.split('Where is A-1?').length - 1).toBe(1);

  // The session finishes: archived, its (reset) workflow completes and the log ends terminated.
  await client.beta.sessions.archive(session.id);
  await eventually(
    async () => {
      const description = await temporal.workflow.getHandle(workflowId).describe();
      return description.status.name === 'COMPLETED' && description.runId === reset.runId ? true : undefined;
    },
    60_000,
    'the reset run completed',
  );
  const final = await listedWith('terminated', (events) => events.at(-1)?.type === 'session.status_terminated');
  expect(new Set(final.map((event) => event.id)).size).toBe(final.length);
  stream.controller.abort();
  await reading;
  // The old run (terminated by the reset) and the reset run (its history from the reset task on, reseeded).
  await recordHistory(temporal, workflowId, 'session-reset');
});

it('resets a workflow run between its phases: the second phase runs again in a fresh child workflow', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const fake = harness.platform.fakeModel;
  const model = (name: string) => `${harness.platform.prefix}-${name}`;
  const tools = [
    { type: 'agent_toolset_20260401', default_config: { enabled: false } },
  ] as unknown as AgentCreateParams['tools'];
  const worker = await client.beta.agents.create({ name: 'worker', model: model('run-worker'), tools });
  const lead = await client.beta.agents.create({
    name: 'lead',
    model: model('run-lead'),
    tools,
    multiagent: { type: 'coordinator', agents: [worker.id] },
  });
  fake.setResponder(model('run-worker'), (body) => ({
    text: `done ${/Do task (\w+)/.exec(JSON.stringify(body))?.[1] ?? 'unknown'}`,
  }));
  const plan = {
    name: 'two-step',
    phases: [
      { name: 'first', tasks: [{ agent: 'worker', message: 'Do task one.' }] },
      { name: 'second', tasks: [{ agent: 'worker', message: 'Do task two.' }] },
    ],
  };
  fake.setScript(model('run-lead'), [
    { toolCalls: [{ name: 'start_workflow_run', input: plan }] },
    { text: 'The run finished.' },
    { text: 'The run finished again.' },
  ]);
  const environment = await client.beta.environments.create({ name: `env-run-${harness.platform.prefix}` });
  const session = await client.beta.sessions.create({ agent: lead.id, environment_id: environment.id });
  const listedWith = (what: string, check: (events: Seen[]) => boolean) =>
    eventually(
      async () => {
        const events = await listEvents(client, session.id);
        return check(events) ? events : undefined;
      },
      120_000,
      what,
    );
  const idleTurns = (events: Seen[]) => events.filter((event) => line(event) === 'session.status_idle end_turn');
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Run the plan.' }] }],
  });
  const before = await listedWith('the run', (events) => idleTurns(events).length === 1);
  const runOf = (events: Seen[]) => events.filter((event) => event.type.startsWith('workflow_run.')).map(line);
  expect(runOf(before)).toEqual([
    'workflow_run.created',
    'workflow_run.status_running',
    'workflow_run.phase_started',
    'workflow_run.phase_ended',
    'workflow_run.phase_started',
    'workflow_run.phase_ended',
    'workflow_run.status_ended',
  ]);

  // Reset the session's workflow to the task that took the first phase's last report (its thread's signal), before
  // the second phase's child workflow started. Threads report by signal: the old run's later signals (the old threads'
  // reports) are not reapplied, as an operator resets a session with threads (`--reapply-exclude Signal`).
  const temporal = harness.platform.client;
  const workflowId = sessionWorkflowId(session.id);
  const oldRun = await temporal.workflow.getHandle(workflowId).describe();
  const history = (await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const secondChild = history.filter((event) => event.startChildWorkflowExecutionInitiatedEventAttributes)[1];
  const lastReport = history
    .filter(
      (event) =>
        event.workflowExecutionSignaledEventAttributes?.signalName === 'threadReport' &&
        Number(event.eventId) < Number(secondChild?.eventId),
    )
    .at(-1);
  const resetTo = history.find(
    (event) => event.workflowTaskCompletedEventAttributes && Number(event.eventId) > Number(lastReport?.eventId),
  );
  expect(resetTo).toBeDefined();
  const reset = await temporal.workflowService.resetWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId, runId: oldRun.runId },
    workflowTaskFinishEventId: resetTo!.eventId,
    reason: 'test: run the second phase again',
    requestId: `reset-${session.id}`,
    resetReapplyExcludeTypes: [proto.api.enums.v1.ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL],
  });

  // The old run's events stay; the reset run's follow: the second phase again, in a new thread, then the answer.
  const after = await listedWith('the reset run', (events) => idleTurns(events).length === 2);
  expect(after.slice(0, before.length).map((event) => event.id)).toEqual(before.map((event) => event.id));
  const tail = after.slice(before.length);
  expect(runOf(tail)).toEqual([
    'workflow_run.phase_ended',
    'workflow_run.phase_started',
    'workflow_run.phase_ended',
    'workflow_run.status_ended',
  ]);
  expect(tail.map(line)).toContain('agent.message The run finished again.');
  expect(new Set(after.map((event) => event.id)).size).toBe(after.length);
  const created = after.filter((event) => event.type === 'session.thread_created');
  expect(created).toHaveLength(3);
  const rerunThread = created[2]!.session_thread_id as string;
  expect(created.slice(0, 2).map((event) => event.session_thread_id)).not.toContain(rerunThread);

  // In Temporal the re-run task is a child workflow of the reset run, and completed.
  const child = await eventually(
    async () => {
      const description = await temporal.workflow.getHandle(sessionWorkflowId(rerunThread)).describe();
      return description.status.name === 'COMPLETED' ? description : undefined;
    },
    60_000,
    'the re-run task completed',
  );
  expect(child.parentExecution).toMatchObject({ workflowId, runId: reset.runId });
  const threadLog: Seen[] = [];
  for await (const event of client.beta.sessions.threads.events.list(rerunThread, { session_id: session.id }))
    threadLog.push(event as Seen);
  expect(threadLog.map(line)).toContain('agent.message done two');
  await recordHistory(temporal, workflowId, 'session-reset-workflow-run');
});
