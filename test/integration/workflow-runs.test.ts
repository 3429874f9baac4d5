// Workflow runs through the official SDK: a coordinator submits a plan of two phases × three tasks with
// `start_workflow_run`; each task runs as a session thread (a child workflow of the session's, as Temporal's describe
// shows), one task's first attempt fails and is retried in a fresh thread (the phase's max_retries), the
// `workflow_run.*` events come in order on the session's log, the threads API names the run, the session's usage is
// the sum of every log's model calls; a second run goes idle while a task waits on the client (a custom tool answered
// through the session's event endpoint); a third is stopped by an interrupt (`status_ended` with `stopped`); runs
// refused (over the open-run limit, a plan the schema refuses) and one past its time limit give `workflow_run.error`.
import Anthropic from '@anthropic-ai/sdk';
import type { AgentCreateParams } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { recordHistory } from '../support/histories.ts';

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('workflow-runs', { workers: ['session', 'model'] });
});
afterAll(async () => {
  await harness?.stop();
});

type Seen = { type: string; id?: string; [key: string]: unknown };
const noBuiltIns = { type: 'agent_toolset_20260401', default_config: { enabled: false } };

async function listEvents(client: Anthropic, sessionId: string, threadId?: string): Promise<Seen[]> {
  const events: Seen[] = [];
  const page = threadId
    ? client.beta.sessions.threads.events.list(threadId, { session_id: sessionId })
    : client.beta.sessions.events.list(sessionId);
  for await (const event of page) events.push(event as Seen);
  return events;
}

it('runs two phases of three tasks as child workflows, retries a failing task, stops on interrupt', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const prefix = harness.platform.prefix;
  const fake = harness.platform.fakeModel;
  const model = (name: string) => `${prefix}-${name}`;
  const tools = [noBuiltIns] as unknown as AgentCreateParams['tools'];

  const worker = await client.beta.agents.create({ name: 'worker', model: model('worker'), tools });
  const checker = await client.beta.agents.create({ name: 'checker', model: model('checker'), tools });
  const asker = await client.beta.agents.create({
    name: 'asker',
    model: model('asker'),
    tools: [
      noBuiltIns,
      {
        type: 'custom',
        name: 'lookup',
        description: 'Look something up',
        input_schema: { type: 'object', properties: { key: { type: 'string' } } },
      },
    ] as unknown as AgentCreateParams['tools'],
  });
  const lead = await client.beta.agents.create({
    name: 'lead',
    model: model('lead'),
    tools,
    multiagent: { type: 'coordinator', agents: [worker.id, checker.id, asker.id] },
  });

  // Task threads answer by their task; "beta" fails (a non-retryable model error) on its first attempt only; "slow"
  // holds its stream open until the interrupt.
  let betaAttempts = 0;
  const answer = (body: Record<string, unknown>) => {
    const task = /Do task (\w+)/.exec(JSON.stringify(body))?.[1] ?? 'unknown';
    if (task === 'beta' && ++betaAttempts === 1) return { fault: { type: 'http' as const, status: 400 } };
    if (task === 'slow' || task === 'late')
      return { text: 'Working slowly on it', chunkSize: 4, holdAfterFirstChunk: `${prefix}-slow` };
    return { text: `done ${task}` };
  };
  fake.setResponder(model('worker'), answer);
  fake.setResponder(model('checker'), answer);
  const task = (agent: string, name: string) => ({ agent, message: `Do task ${name}.` });
  const plan = {
    name: 'two-step',
    description: 'Gather, then combine.',
    phases: [
      {
        name: 'gather',
        max_retries: 1,
        tasks: [task('worker', 'alpha'), task('worker', 'beta'), task('checker', 'gamma')],
      },
      { name: 'combine', tasks: [task('worker', 'delta'), task('checker', 'epsilon'), task('worker', 'zeta')] },
    ],
  };
  const slowPlan = {
    name: 'slow',
    phases: [{ name: 'only', tasks: [task('worker', 'slow'), task('checker', 'slow')] }],
  };
  // The asker's task waits on the client (a custom tool): the run goes idle until the client answers.
  fake.setResponder(model('asker'), (body) =>
    JSON.stringify(body).includes('tool_result')
      ? { text: 'done asking' }
      : { toolCalls: [{ name: 'lookup', input: { key: 'k' } }] },
  );
  const askPlan = { name: 'ask', phases: [{ name: 'only', tasks: [task('asker', 'ask'), task('worker', 'eta')] }] };
  fake.setScript(model('lead'), [
    { toolCalls: [{ name: 'start_workflow_run', input: plan }] },
    { text: 'The run finished.' },
    { toolCalls: [{ name: 'start_workflow_run', input: askPlan }] },
    { text: 'The asking run finished.' },
    { toolCalls: [{ name: 'start_workflow_run', input: slowPlan }] },
    {
      toolCalls: [
        ...['tiny1', 'tiny2', 'tiny3', 'tiny4'].map((name) => ({
          name: 'start_workflow_run',
          input: { name, phases: [{ name: 'only', tasks: [task('worker', name)] }] },
        })),
        { name: 'start_workflow_run', input: { name: 'bad', phases: [] } },
      ],
    },
    { text: 'Three of five.' },
    {
      toolCalls: [
        {
          name: 'start_workflow_run',
          input: { name: 'late', timeout_seconds: 1, phases: [{ name: 'only', tasks: [task('worker', 'late')] }] },
        },
      ],
    },
    { text: 'Too late.' },
  ]);

  const environment = await client.beta.environments.create({ name: `env-${prefix}` });
  const session = await client.beta.sessions.create({ agent: lead.id, environment_id: environment.id });
  const idleAfter = async (count: number) =>
    eventually(
      async () => {
        const events = await listEvents(client, session.id);
        const idle = events.filter(
          (event) =>
            event.type === 'session.status_idle' && (event.stop_reason as { type: string }).type === 'end_turn',
        );
        return idle.length >= count ? events : undefined;
      },
      120_000,
      `idle ${count}`,
    );

  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Run the plan.' }] }],
  });
  const events = await idleAfter(1);

  // The run's events, in order, on the session's log.
  const runEvents = events.filter((event) => event.type.startsWith('workflow_run.'));
  expect(runEvents.map((event) => event.type)).toEqual([
    'workflow_run.created',
    'workflow_run.status_running',
    'workflow_run.phase_started',
    'workflow_run.phase_ended',
    'workflow_run.phase_started',
    'workflow_run.phase_ended',
    'workflow_run.status_ended',
  ]);
  const created = runEvents[0]!;
  const runId = created.workflow_run_id as string;
  expect(created).toMatchObject({ name: 'two-step', description: 'Gather, then combine.' });
  const phases = created.phases as { id: string; name: string }[];
  expect(phases.map((phase) => phase.name)).toEqual(['gather', 'combine']);
  expect(runEvents.every((event) => event.workflow_run_id === runId)).toBe(true);
  expect(runEvents[2]).toMatchObject({ workflow_run_phase_id: phases[0]!.id });
  expect(runEvents[3]).toMatchObject({ workflow_run_phase_id: phases[0]!.id, phase_started_id: runEvents[2]!.id });
  expect(runEvents[5]).toMatchObject({ workflow_run_phase_id: phases[1]!.id, phase_started_id: runEvents[4]!.id });
  expect(runEvents[6]).toMatchObject({ result: { type: 'completed' } });

  // Seven threads: six tasks and beta's retry, each created between its phase's start and end.
  const threadCreated = events.filter((event) => event.type === 'session.thread_created');
  expect(threadCreated).toHaveLength(7);
  expect(threadCreated.every((event) => event.workflow_run_id === runId)).toBe(true);
  const at = (event: Seen) => events.indexOf(event);
  expect(
    threadCreated.slice(0, 4).every((event) => at(event) > at(runEvents[2]!) && at(event) < at(runEvents[3]!)),
  ).toBe(true);
  expect(threadCreated.slice(4).every((event) => at(event) > at(runEvents[4]!) && at(event) < at(runEvents[5]!))).toBe(
    true,
  );
  expect(betaAttempts).toBe(2);
  const result = events.find((event) => event.type === 'agent.tool_result')!;
  expect(result.is_error).toBe(false);
  const resultText = JSON.stringify(result.content);
  for (const name of ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'])
    expect(resultText).toContain(`done ${name}`);
  expect(resultText).toContain('2 attempts');

  // The threads API names the run; the failed attempt's thread shows the model error.
  const threads = [];
  for await (const thread of client.beta.sessions.threads.list(session.id)) threads.push(thread);
  const runThreads = threads.filter((thread) => thread.workflow_run_id === runId);
  expect(runThreads).toHaveLength(7);
  const failedThreads = [];
  for (const thread of runThreads) {
    const log = await listEvents(client, session.id, thread.id);
    if (log.some((event) => event.type === 'session.error')) failedThreads.push(thread.id);
  }
  expect(failedThreads).toHaveLength(1);

  // Temporal: every task thread is a child workflow of the session's, and has completed (ended by the run).
  const temporal = harness.platform.client;
  const parentId = sessionWorkflowId(session.id);
  for (const thread of runThreads) {
    const described = await eventually(
      async () => {
        const description = await temporal.workflow.getHandle(sessionWorkflowId(thread.id)).describe();
        return description.status.name === 'COMPLETED' ? description : undefined;
      },
      60_000,
      `thread ${thread.id} completed`,
    );
    expect(described.parentExecution?.workflowId).toBe(parentId);
  }
  const children = [];
  for await (const execution of temporal.workflow.list({ query: `ParentWorkflowId = '${parentId}'` })) {
    children.push(execution.workflowId);
  }
  expect(children).toEqual(expect.arrayContaining(runThreads.map((thread) => sessionWorkflowId(thread.id))));

  // A second run: one task waits on the client; the run is idle until the client answers the cross-posted call.
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Run the asking plan.' }] }],
  });
  const ask = await eventually(
    async () => (await listEvents(client, session.id)).find((event) => event.type === 'agent.custom_tool_use'),
    60_000,
    'cross-posted custom tool use',
  );
  await eventually(
    async () =>
      (await listEvents(client, session.id)).some((event) => event.type === 'workflow_run.status_idle')
        ? true
        : undefined,
    60_000,
    'run idle',
  );
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.custom_tool_result', custom_tool_use_id: ask.id!, content: [{ type: 'text', text: 'v' }] }],
  });
  const asked = (await idleAfter(2)).filter(
    (event) => event.type.startsWith('workflow_run.') && event.workflow_run_id !== runId,
  );
  expect(asked.map((event) => event.type)).toEqual([
    'workflow_run.created',
    'workflow_run.status_running',
    'workflow_run.phase_started',
    'workflow_run.status_idle',
    'workflow_run.status_running',
    'workflow_run.phase_ended',
    'workflow_run.status_ended',
  ]);
  expect(asked.at(-1)).toMatchObject({ result: { type: 'completed' } });
  const askRunId = asked[0]!.workflow_run_id;

  // A third run: its tasks hold their model calls; an interrupt stops the run and the session.
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Run the slow plan.' }] }],
  });
  await eventually(
    async () =>
      fake.requests(model('worker')).length >= 7 && fake.requests(model('checker')).length >= 3 ? true : undefined,
    60_000,
    'held task calls',
  );
  await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
  const after = await idleAfter(3);
  const second = after.filter(
    (event) =>
      event.type.startsWith('workflow_run.') && event.workflow_run_id !== runId && event.workflow_run_id !== askRunId,
  );
  expect(second.map((event) => event.type)).toEqual([
    'workflow_run.created',
    'workflow_run.status_running',
    'workflow_run.phase_started',
    'workflow_run.phase_ended',
    'workflow_run.status_ended',
  ]);
  expect(second.at(-1)).toMatchObject({ result: { type: 'stopped' } });
  const stoppedResult = after.filter((event) => event.type === 'agent.tool_result').at(-1)!;
  expect(stoppedResult.is_error).toBe(true);

  // Usage: the session's figure is the primary's and every thread's model calls.
  const allThreads = [];
  for await (const thread of client.beta.sessions.threads.list(session.id)) allThreads.push(thread);
  expect(allThreads.filter((thread) => thread.workflow_run_id !== null)).toHaveLength(11);
  let inputTokens = 0;
  let outputTokens = 0;
  for (const log of [undefined, ...allThreads.slice(1).map((thread) => thread.id)]) {
    for (const event of await listEvents(client, session.id, log)) {
      const usage = event.model_usage as { input_tokens: number; output_tokens: number } | undefined;
      inputTokens += usage?.input_tokens ?? 0;
      outputTokens += usage?.output_tokens ?? 0;
    }
  }
  expect(inputTokens).toBeGreaterThan(0);
  await eventually(
    async () => {
      const retrieved = await client.beta.sessions.retrieve(session.id);
      return retrieved.usage?.input_tokens === inputTokens ? retrieved : undefined;
    },
    30_000,
    'usage adds up',
  );
  expect((await client.beta.sessions.retrieve(session.id)).usage).toMatchObject({
    input_tokens: inputTokens,
    output_tokens: outputTokens,
  });
  // The tenant's ledger meters every thread's model calls under the session.
  const ledger = (await (await harness.request(`/v1/usage?group_by=session`)).json()) as {
    data: { session_id: string; input_tokens: number; output_tokens: number }[];
  };
  expect(ledger.data.find((row) => row.session_id === session.id)).toMatchObject({
    input_tokens: inputTokens,
    output_tokens: outputTokens,
  });
  // The stopped run's threads were ended: their child workflows have completed.
  const stoppedThreads = allThreads.filter((thread) => thread.workflow_run_id === second[0]!.workflow_run_id);
  expect(stoppedThreads).toHaveLength(2);
  for (const thread of stoppedThreads) {
    await eventually(
      async () => {
        const description = await temporal.workflow.getHandle(sessionWorkflowId(thread.id)).describe();
        return description.status.name === 'COMPLETED' ? true : undefined;
      },
      60_000,
      `stopped thread ${thread.id} completed`,
    );
  }

  // Refusals: five runs asked for at once — three open, the fourth over the session's limit of open runs, the fifth
  // a plan the schema refuses; neither refusal creates a run.
  const turnEvents = async (turn: number) => {
    const all = await idleAfter(turn);
    const starts = all.filter((event) => event.type === 'user.message');
    return all.slice(all.indexOf(starts[turn - 1]!));
  };
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Run five at once.' }] }],
  });
  const fourth = await turnEvents(4);
  const refusals = fourth.filter((event) => event.type === 'workflow_run.error');
  expect(refusals.map((event) => [event.workflow_run_id, (event.error as { type: string }).type])).toEqual([
    [null, 'max_workflow_runs_error'],
    [null, 'program_error'],
  ]);
  expect(fourth.filter((event) => event.type === 'workflow_run.created')).toHaveLength(3);
  expect(fourth.filter((event) => event.type === 'workflow_run.status_ended').map((event) => event.result)).toEqual([
    { type: 'completed' },
    { type: 'completed' },
    { type: 'completed' },
  ]);
  expect(fourth.filter((event) => event.type === 'agent.tool_result').map((event) => event.is_error)).toEqual(
    expect.arrayContaining([false, false, false, true, true]),
  );

  // A run past its time limit (its only task holds its model call) ends with timeout_error.
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Run late.' }] }],
  });
  const late = (await turnEvents(5)).filter((event) => event.type.startsWith('workflow_run.'));
  expect(late.map((event) => event.type)).toEqual([
    'workflow_run.created',
    'workflow_run.status_running',
    'workflow_run.phase_started',
    'workflow_run.phase_ended',
    'workflow_run.error',
    'workflow_run.status_ended',
  ]);
  expect(late.at(-1)).toMatchObject({ result: { type: 'error', error: { type: 'timeout_error' } } });
  expect(late.at(-2)).toMatchObject({ error: { type: 'timeout_error' } });

  await recordHistory(temporal, parentId, 'workflow-runs-session');
  await recordHistory(temporal, sessionWorkflowId(failedThreads[0]!), 'workflow-runs-failed-task');
  await client.beta.sessions.archive(session.id);
});
