// Agents defined in code (sdk/): the shell-helper example (examples/shell-helper) runs in a worker of its own on its own
// task queue; a session of an agent whose harness names it is driven through the official SDK against the fake model.
// Its events land in the same log (events.list), its command runs in the platform's sandbox, the harness shows on the
// agent, the session and the trace, and the session's history replays against the example's workflow module.
import Anthropic, { BadRequestError } from '@anthropic-ai/sdk';
import type { AgentCreateParams } from '@anthropic-ai/sdk/resources/beta/agents';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { shellHelperWorkflowsPath } from '../../examples/shell-helper/worker.ts';
import { createAgentWorker } from '../../sdk/worker.ts';
import { workflowBundlerOptions } from '../../workers/workflow-bundler.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';

let harness: ApiHarness;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let taskQueue: string;

beforeAll(async () => {
  harness = await startApiHarness('code-agent', { workers: ['session', 'model', 'sandbox'] });
  taskQueue = `${harness.platform.prefix}-code-agents`;
  connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  worker = await createAgentWorker({
    connection,
    pool: harness.platform.pool,
    dataConverter: harness.platform.dataConverter,
    taskQueue,
    workflowsPath: shellHelperWorkflowsPath,
  });
  running = worker.run();
}, 180_000);
afterAll(async () => {
  if (worker) {
    worker.shutdown();
    await running;
  }
  await connection?.close();
  await harness?.stop();
});

const listAll = async (client: Anthropic, sessionId: string) => {
  const events: BetaManagedAgentsSessionEvent[] = [];
  for await (const event of client.beta.sessions.events.list(sessionId)) events.push(event);
  return events;
};

/** The SDK's create params with this platform's `harness` extension (the SDK sends the body as given). */
const withHarness = (params: AgentCreateParams, harnessField: unknown) =>
  ({ ...params, harness: harnessField }) as AgentCreateParams;

it('runs a session of the code-defined shell helper through the official SDK', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const model = `${harness.platform.prefix}-shell-helper`;
  harness.platform.fakeModel.setScript(model, [
    { text: 'Let me look.', toolCalls: [{ name: 'bash', input: { command: 'echo hello-from-code' } }] },
    { text: 'The sandbox says hello-from-code.' },
  ]);
  const agent = await client.beta.agents.create(
    withHarness(
      { name: 'shell helper', model, tools: [{ type: 'agent_toolset_20260401' }] },
      { type: 'code', name: 'shell-helper', task_queue: taskQueue },
    ),
  );
  expect((agent as unknown as { harness: unknown }).harness).toEqual({
    type: 'code',
    name: 'shell-helper',
    task_queue: taskQueue,
  });
  const read = await client.beta.agents.retrieve(agent.id);
  expect((read as unknown as { harness: unknown }).harness).toEqual({
    type: 'code',
    name: 'shell-helper',
    task_queue: taskQueue,
  });

  const environment = await client.beta.environments.create({ name: `code agent ${agent.id}` });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  expect((session.agent as unknown as { harness: unknown }).harness).toMatchObject({ type: 'code' });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'say hello from the sandbox' }] }],
  });

  const events = await eventually(
    async () => {
      const listed = await listAll(client, session.id);
      return listed.some((event) => event.type === 'session.status_idle' && listed.indexOf(event) > 1)
        ? listed
        : undefined;
    },
    120_000,
    'session.status_idle after the turn',
  );
  const story = events
    .map((event) => event.type)
    .filter((type) => type !== 'span.model_request_start' && type !== 'span.model_request_end');
  expect(story).toEqual([
    'user.message',
    'session.status_running',
    'agent.message',
    'agent.tool_use',
    'agent.tool_result',
    'agent.message',
    'session.status_idle',
  ]);
  const result = events.find((event) => event.type === 'agent.tool_result');
  expect(JSON.stringify(result)).toContain('hello-from-code');
  const last = events.filter((event) => event.type === 'agent.message').at(-1);
  expect(JSON.stringify(last)).toContain('The sandbox says hello-from-code.');

  // The second model call saw the command's output (the transcript is the session's log).
  const requests = harness.platform.fakeModel.requests(model);
  expect(requests).toHaveLength(2);
  expect(JSON.stringify(requests.at(-1))).toContain('hello-from-code');

  const retrieved = await client.beta.sessions.retrieve(session.id);
  expect((retrieved.agent as unknown as { harness: unknown }).harness).toMatchObject({ name: 'shell-helper' });
  expect(retrieved.usage?.input_tokens ?? 0).toBeGreaterThan(0);

  const trace = (await (await harness.request(`/v1/sessions/${session.id}/trace`)).json()) as {
    harness: unknown;
    totals: { tool_calls: number };
  };
  expect(trace.harness).toEqual({ type: 'code', name: 'shell-helper', task_queue: taskQueue });
  expect(trace.totals.tool_calls).toBe(1);

  // The handler is workflow code: the session's history replays against the example's module.
  const history = await harness.platform.client.workflow.getHandle(sessionWorkflowId(session.id)).fetchHistory();
  await Worker.runReplayHistory(
    {
      workflowsPath: shellHelperWorkflowsPath,
      bundlerOptions: workflowBundlerOptions,
      dataConverter: harness.platform.dataConverter,
    },
    history,
    sessionWorkflowId(session.id),
  );
}, 240_000);

it('refuses an unknown harness with 400 in the one error shape', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const create = client.beta.agents.create(
    withHarness({ name: 'nope', model: 'claude-sonnet-5-5' }, { type: 'openai-agents-sdk' }),
  );
  await expect(create).rejects.toBeInstanceOf(BadRequestError);
  const error = (await create.catch((caught: unknown) => caught)) as BadRequestError;
  expect(error.status).toBe(400);
  expect((error.error as { type: string; error: { type: string } }).error.type).toBe('invalid_request_error');
});
