// Every harness behind the same session API (issue 17): one scripted conversation — a bash call in the sandbox, an
// always_ask approval, a custom tool, an interrupt mid-answer — run through the official SDK against the fake model
// with each harness. The event sequences must be the same kinds in the same order; usage is recorded (on the session
// and in the ledger); the trace renders with the harness named. A harness is one row of `harnesses`.
import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import type { AgentCreateParams } from '@anthropic-ai/sdk/resources/beta/agents';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { sessionTraceSchema } from '../../domain/trace/schema.ts';
import { createAgentWorker } from '../../sdk/worker.ts';
import { workflowBundlerOptions } from '../../workers/workflow-bundler.ts';
import { conformanceWorkflowsPath } from '../support/conformance-agent.ts';
import { recordHistory } from '../support/histories.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';

interface HarnessRow {
  name: string;
  /** The agent's `harness` field (undefined: the default, native). */
  harness: Record<string, unknown> | undefined;
  /** The patch marker the harness's branch leaves in the session's history (proof that it, not the native loop, ran). */
  patch?: string;
  /** The recorded history's name for the replay gate (test/histories), when its branch needs one. */
  history?: string;
  /** The workflow module the session's history replays against here (a code agent's worker module). */
  replayWith?: string;
  /** Why this harness cannot run the conversation yet (the row is skipped, and says so). */
  skip?: string;
  /** Why the approvals conversation does not apply to this harness (that test is skipped, and says so). */
  skipApprovals?: string;
  /** The agent's model provider (the fake model speaks each protocol); the OpenAI Chat Completions one by default. */
  provider?: 'anthropic';
  /** The tool names the harness's model sees, when they are not the platform's (Claude Code names its own). */
  names?: ToolNames;
  /** A harness inside the sandbox reaches its model (the gateway) only through the egress proxy: `limited`. */
  networking?: 'limited';
}

/** The names under which the conversation's model calls the tools, and the write tool's input. */
interface ToolNames {
  bash: string;
  write: string;
  writeInput: (path: string, content: string) => Record<string, unknown>;
  custom: (name: string) => string;
}
const platformNames: ToolNames = {
  bash: 'bash',
  write: 'write',
  writeInput: (path, content) => ({ path, content }),
  custom: (name) => name,
};

const harnesses: HarnessRow[] = [
  { name: 'native', harness: undefined },
  {
    name: 'openai_agents',
    harness: { type: 'openai_agents' },
    patch: 'openai-agents-harness',
    history: 'openai-agents-harness',
  },
  {
    name: 'code',
    harness: { type: 'code', name: 'conformance', task_queue: 'conformance' },
    patch: 'code-agent-client-tools',
    replayWith: conformanceWorkflowsPath,
  },
  {
    // Claude Code in the session's sandbox, its model the platform's gateway (Anthropic Messages) with the fake model
    // behind it; its model calls Claude Code's own tool names (the custom tool through the SDK's in-process MCP server).
    name: 'claude_agent_sdk',
    harness: { type: 'claude_agent_sdk' },
    patch: 'claude-agent-sdk-harness',
    history: 'claude-agent-sdk-harness',
    provider: 'anthropic',
    names: {
      bash: 'Bash',
      write: 'Write',
      writeInput: (path, content) => ({ file_path: path, content }),
      custom: (name) => `mcp__platform__${name}`,
    },
    networking: 'limited',
    skipApprovals:
      'backend tools (lookup_order, refund_order) are not offered to Claude Code — only sandbox and custom tools ' +
      '(README, Claude Agent SDK harness, limits)',
  },
  {
    name: 'codex',
    harness: { type: 'codex' },
    patch: 'codex-harness',
    skip:
      'step 2 cannot conform: its always_ask `write` beside an always_allow `bash` has no Codex counterpart — Codex ' +
      'has no write tool (a file is written by exec_command or apply_patch) and one approval policy for all its ' +
      'commands and patches: `never` (bash always_allow) puts nothing to the client, `untrusted` would put every ' +
      'bash command not known read-only to it too. The other steps do conform, in ' +
      'test/integration/codex-harness.test.ts: bash as exec_command (always_ask allowed and denied), the custom ' +
      'tool (a dynamic tool of Codex), the interrupt',
  },
];

let harness: ApiHarness;
let client: Anthropic;
let connection: NativeConnection;
let codeWorker: Worker;
let codeWorkerRunning: Promise<void>;
const sequences = new Map<string, string[]>();
const approvalSequences = new Map<string, string[]>();

beforeAll(async () => {
  harness = await startApiHarness('harness-conformance', {
    workers: ['session', 'model', 'sandbox', 'backend'],
    // The Claude row: the model gateway (the provider key stays outside the sandbox) and the egress proxy to it.
    privateNetworkAllowlist: ['127.0.0.0/8'],
    egress: {},
    claudeHarness: { providerKey: `sk-ant-provider-${randomBytes(12).toString('hex')}` },
  });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  // The code row's agent runs in a worker of its own, on its harness's task queue (as an operator's would).
  connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  codeWorker = await createAgentWorker({
    connection,
    pool: harness.platform.pool,
    dataConverter: harness.platform.dataConverter,
    taskQueue: 'conformance',
    workflowsPath: conformanceWorkflowsPath,
  });
  codeWorkerRunning = codeWorker.run();
}, 180_000);
afterAll(async () => {
  if (codeWorker) {
    codeWorker.shutdown();
    await codeWorkerRunning;
  }
  await connection?.close();
  await harness?.stop();
});

const listAll = async (sessionId: string) => {
  const events: BetaManagedAgentsSessionEvent[] = [];
  for await (const event of client.beta.sessions.events.list(sessionId)) events.push(event);
  return events;
};

/** An event as the sequence compares it: its type, and the stop reason of an idle. */
const kindOf = (event: BetaManagedAgentsSessionEvent): string =>
  event.type === 'session.status_idle' ? `${event.type} ${event.stop_reason?.type ?? ''}` : event.type;

async function idleCount(sessionId: string): Promise<number> {
  return (await listAll(sessionId)).filter((event) => event.type === 'session.status_idle').length;
}

/** Waits for the n-th idle of the session and returns the events so far. */
async function untilIdle(sessionId: string, n: number): Promise<BetaManagedAgentsSessionEvent[]> {
  return eventually(
    async () => ((await idleCount(sessionId)) >= n ? listAll(sessionId) : undefined),
    180_000, // the first turn of a sandboxed harness starts its container and its runtime, slow under load
    `idle #${n} of ${sessionId}`,
  );
}

/** An agent with the row's harness, its environment and a session; `say` sends a user message. */
async function openSession(row: HarnessRow, model: string, tools: AgentCreateParams['tools']) {
  const params: AgentCreateParams = {
    name: `conformance ${row.name}`,
    model: { id: model, provider: row.provider ?? 'openai-chat' } as unknown as AgentCreateParams['model'],
    tools,
  };
  const agent = await client.beta.agents.create(
    (row.harness ? { ...params, harness: row.harness } : params) as AgentCreateParams,
  );
  const environment = await client.beta.environments.create({
    name: `conformance ${row.name} ${agent.id}`,
    ...(row.networking ? { config: { type: 'cloud', networking: { type: row.networking } } } : {}),
  });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  const say = (text: string) =>
    client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
    });
  return { session, say };
}

async function runConversation(row: HarnessRow): Promise<string[]> {
  const model = `${harness.platform.prefix}-${row.name}-conformance`;
  const hold = `${model}-hold`;
  const names = row.names ?? platformNames;
  harness.platform.fakeModel.setScript(model, [
    { text: 'Let me look.', toolCalls: [{ name: names.bash, input: { command: 'echo conformance-ok' } }] },
    { text: 'The sandbox said conformance-ok.' },
    { toolCalls: [{ name: names.write, input: names.writeInput('/workspace/note.txt', 'approved') }] },
    { text: 'Written.' },
    { toolCalls: [{ name: names.custom('get_weather'), input: { city: 'Paris' } }] },
    { text: 'It is sunny in Paris.' },
    { text: 'A very long answer that the user will interrupt', chunkSize: 5, holdAfterFirstChunk: hold },
  ]);
  const { session, say } = await openSession(row, model, [
    { type: 'agent_toolset_20260401', configs: [{ name: 'write', permission_policy: { type: 'always_ask' } }] },
    {
      type: 'custom',
      name: 'get_weather',
      description: 'The weather in a city',
      input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  ]);

  // 1. A bash call in the sandbox.
  await say('Run the check.');
  let events = await untilIdle(session.id, 1);
  expect(JSON.stringify(events.filter((event) => event.type === 'agent.tool_result'))).toContain('conformance-ok');

  // 2. An always_ask call: the session waits for the confirmation, then runs it.
  await say('Write the note.');
  events = await untilIdle(session.id, 2);
  const ask = events.findLast((event) => event.type === 'agent.tool_use');
  expect(ask).toMatchObject({ name: 'write', evaluated_permission: 'ask' });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.tool_confirmation', tool_use_id: ask!.id, result: 'allow' }],
  });
  await untilIdle(session.id, 3);

  // 3. A custom tool: the client answers it.
  await say('What is the weather?');
  events = await untilIdle(session.id, 4);
  const custom = events.findLast((event) => event.type === 'agent.custom_tool_use');
  expect(custom).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
  await client.beta.sessions.events.send(session.id, {
    events: [
      { type: 'user.custom_tool_result', custom_tool_use_id: custom!.id, content: [{ type: 'text', text: 'sunny' }] },
    ],
  });
  await untilIdle(session.id, 5);

  // 4. An interrupt while the answer streams.
  await say('Tell me a long story.');
  await eventually(async () => (harness.platform.fakeModel.held().includes(hold) ? true : undefined), 60_000, 'hold');
  await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
  events = await untilIdle(session.id, 6);
  harness.platform.fakeModel.release(hold);

  // Usage: on the session and in the ledger; the trace renders and names the harness.
  const retrieved = await client.beta.sessions.retrieve(session.id);
  expect(retrieved.usage?.input_tokens ?? 0).toBeGreaterThan(0);
  const usageRows = (await (await harness.request('/v1/usage')).json()) as {
    data: Array<{ session_id: string; model_requests: number }>;
  };
  expect(usageRows.data.find((row) => row.session_id === session.id)?.model_requests).toBe(7);
  const traceResponse = await harness.request(`/v1/sessions/${session.id}/trace`);
  expect(traceResponse.status).toBe(200);
  const trace = sessionTraceSchema.parse(await traceResponse.json());
  expect(trace.harness).toEqual(row.harness ?? { type: 'native' });
  expect(trace.turns).toHaveLength(4);
  expect(trace.totals.tool_calls).toBe(3);

  const workflowId = sessionWorkflowId(session.id);
  const history = await harness.platform.client.workflow.getHandle(workflowId).fetchHistory();
  const patches = (history.events ?? []).flatMap((event) => {
    const marker = event.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : null;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
  });
  if (row.patch) expect(patches).toContain(row.patch);
  if (row.history) await recordHistory(harness.platform.client, workflowId, row.history);
  await replayIfCode(row, workflowId);
  return events.map(kindOf);
}

const orderSchema = { type: 'object' as const, properties: { order_id: { type: 'string' } }, required: ['order_id'] };

/**
 * Approvals in depth: one step with an allowed backend call and two always_ask calls (one allowed, one denied with a
 * message, answered one at a time), then an interrupt while a confirmation is awaited, then a normal turn.
 */
async function runApprovals(row: HarnessRow): Promise<string[]> {
  const model = `${harness.platform.prefix}-${row.name}-approvals`;
  harness.platform.fakeModel.setScript(model, [
    {
      text: 'Checking the order.',
      toolCalls: [
        { name: 'lookup_order', input: { order_id: 'A-1' } },
        { name: 'write', input: { path: 'refund.txt', content: 'A-1' } },
        { name: 'refund_order', input: { order_id: 'A-1' } },
      ],
    },
    { text: 'Refunded, not written.' },
    { toolCalls: [{ name: 'write', input: { path: 'later.txt', content: 'x' } }] },
    { text: 'Still here.' },
  ]);
  const backend = (name: string, activity: string, ask: boolean) => ({
    type: 'backend',
    name,
    description: `${name} of an order`,
    input_schema: orderSchema,
    task_queue: harness.platform.backendQueue,
    activity,
    ...(ask ? { permission_policy: { type: 'always_ask' } } : {}),
  });
  const tools = [
    { type: 'agent_toolset_20260401', configs: [{ name: 'write', permission_policy: { type: 'always_ask' } }] },
    backend('lookup_order', 'lookupOrder', false),
    backend('refund_order', 'refundOrder', true),
  ] as unknown as AgentCreateParams['tools'];
  const { session, say } = await openSession(row, model, tools);
  const confirm = (toolUseId: string, result: 'allow' | 'deny', message?: string) =>
    client.beta.sessions.events.send(session.id, {
      events: [
        {
          type: 'user.tool_confirmation',
          tool_use_id: toolUseId,
          result,
          ...(message ? { deny_message: message } : {}),
        },
      ],
    });

  await say('Refund order A-1.');
  let events = await untilIdle(session.id, 1);
  const asks = events.filter((event) => event.type === 'agent.tool_use' && event.evaluated_permission === 'ask');
  expect(asks.map((event) => (event.type === 'agent.tool_use' ? event.name : ''))).toEqual(['write', 'refund_order']);
  await confirm(asks[1]!.id, 'allow');
  await untilIdle(session.id, 2); // the other call is announced again
  await confirm(asks[0]!.id, 'deny', 'Not now.');
  events = await untilIdle(session.id, 3);
  const denied = events.find((event) => event.type === 'agent.tool_result' && event.tool_use_id === asks[0]!.id);
  expect(JSON.stringify(denied)).toContain('Not now.');

  await say('Write another note.');
  await untilIdle(session.id, 4);
  await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
  await untilIdle(session.id, 5);
  await say('Are you there?');
  events = await untilIdle(session.id, 6);
  expect(JSON.stringify(events.at(-2))).toContain('Still here.');
  if (row.history)
    await recordHistory(harness.platform.client, sessionWorkflowId(session.id), `${row.history}-approvals`);
  await replayIfCode(row, sessionWorkflowId(session.id));
  return events.map(kindOf);
}

/** A code agent's handler is workflow code: its session's history replays against the agent's module. */
async function replayIfCode(row: HarnessRow, workflowId: string): Promise<void> {
  if (!row.replayWith) return;
  const history = await harness.platform.client.workflow.getHandle(workflowId).fetchHistory();
  await Worker.runReplayHistory(
    {
      workflowsPath: row.replayWith,
      bundlerOptions: workflowBundlerOptions,
      dataConverter: harness.platform.dataConverter,
    },
    history,
    workflowId,
  );
}

describe.each(harnesses)('the conformance conversation on the $name harness', (row) => {
  it.skipIf(row.skip !== undefined)(
    `runs${row.skip ? ` (skipped: ${row.skip})` : ''}`,
    async () => {
      const sequence = await runConversation(row);
      sequences.set(row.name, sequence);
      const reference = sequences.get('native');
      if (row.name !== 'native' && reference) expect(sequence).toEqual(reference);
    },
    300_000,
  );

  const skipApprovals = row.skip ?? row.skipApprovals;
  it.skipIf(skipApprovals !== undefined)(
    `runs the approvals conversation${skipApprovals ? ` (skipped: ${skipApprovals})` : ''}`,
    async () => {
      const sequence = await runApprovals(row);
      approvalSequences.set(row.name, sequence);
      const reference = approvalSequences.get('native');
      if (row.name !== 'native' && reference) expect(sequence).toEqual(reference);
    },
    300_000,
  );
});

it('produced one event sequence for every harness that ran', () => {
  const [first, ...rest] = [...sequences.values()];
  expect(first).toBeDefined();
  for (const sequence of rest) expect(sequence).toEqual(first);
  console.log(`conformance sequence (${sequences.size} harnesses):\n${first?.join('\n')}`);
});
