// The Codex harness through the official SDK, against the fake model server: `codex app-server` (the npm package's
// native build) runs inside the session's Docker sandbox and reaches the fake model's OpenAI Responses endpoint only
// through the platform's model gateway (by the sandbox's egress proxy), with a session token. One scripted
// conversation — a bash command in the sandbox that the `always_ask` policy puts to the client (allowed), one the
// client denies, an interrupt while the answer streams — runs through the native loop and through Codex: the same
// event kinds in the same order. Usage is recorded (session, events, ledger), the trace renders with the harness
// named, and the provider key is nowhere in the sandbox (environment, processes, files). A second conversation
// offers the agent's custom tool to Codex (a dynamic tool of its app-server): the call is the client's
// `agent.custom_tool_use`, and the client's `user.custom_tool_result` is what Codex's model reads back.
import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import type { AgentCreateParams } from '@anthropic-ai/sdk/resources/beta/agents';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SessionEvent } from '../../domain/events.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { sessionTraceSchema } from '../../domain/trace/schema.ts';
import { runProcess } from '../../activities/sandbox/docker-stream.ts';
import type { FakeTurn } from '../fake-model/script.ts';
import { listEvents, waitForIdle } from '../fixtures/trace/scenario.ts';
import { eventually, startApiOn, type ApiHarness } from '../support/api-harness.ts';
import { recordHistory } from '../support/histories.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

const providerKey = `sk-provider-${randomBytes(12).toString('hex')}`;
let platform: TestPlatform;
let harness: ApiHarness;
let client: Anthropic;

beforeAll(async () => {
  platform = await startTestPlatform({
    label: 'codex-harness',
    workers: ['session', 'model', 'sandbox'],
    privateNetworkAllowlist: ['127.0.0.0/8'],
    egress: {},
    claudeHarness: { providerKey },
  });
  harness = await startApiOn(platform, 'codex-harness');
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});

afterAll(async () => {
  await harness?.stop();
  await platform?.stop();
});

/** A bash call as each loop's model writes it: the platform's `bash`, or Codex's `exec_command`. */
type BashCall = (command: string) => { name: string; input: Record<string, unknown> };
const nativeBash: BashCall = (command) => ({ name: 'bash', input: { command } });
const codexBash: BashCall = (command) => ({ name: 'exec_command', input: { cmd: command } });

const script = (bash: BashCall, holdKey: string): FakeTurn[] => [
  { toolCalls: [bash('echo built > /workspace/out.txt && cat /workspace/out.txt')] },
  { text: 'Built.' },
  { toolCalls: [bash('rm -rf /workspace/out.txt')] },
  { text: 'Left it in place.' },
  { text: 'Thinking for a long time about this', holdAfterFirstChunk: holdKey },
];

const send = (sessionId: string, text: string) =>
  client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });

const nthOf = async (sessionId: string, type: string, count: number) =>
  eventually(async () => (await listEvents(harness, sessionId)).filter((event) => event.type === type)[count - 1]);

/** Answers the n-th `always_ask` bash call of the session. */
async function confirm(sessionId: string, n: number, result: 'allow' | 'deny') {
  const ask = (await nthOf(sessionId, 'agent.tool_use', n)) as Extract<SessionEvent, { type: 'agent.tool_use' }>;
  expect(ask).toMatchObject({ name: 'bash', evaluated_permission: 'ask' });
  await waitForIdle(harness, sessionId, 'requires_action', n);
  await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.tool_confirmation', tool_use_id: ask.id, result }],
  });
}

/** Runs the scripted conversation; returns the session's events. */
async function converse(label: string, bash: BashCall, harnessType?: 'codex') {
  const model = `${platform.prefix}-${label}`;
  const holdKey = `${platform.prefix}-${label}-hold`;
  platform.fakeModel.setScript(model, script(bash, holdKey));
  const params: AgentCreateParams = {
    name: `agent-${label}`,
    model: { id: model, provider: 'openai-responses' } as unknown as AgentCreateParams['model'],
    tools: [
      {
        type: 'agent_toolset_20260401',
        default_config: { enabled: false },
        configs: [{ name: 'bash', enabled: true, permission_policy: { type: 'always_ask' } }],
      },
    ],
  };
  const agent = await client.beta.agents.create(
    (harnessType ? { ...params, harness: { type: harnessType } } : params) as AgentCreateParams,
  );
  const environment = await client.beta.environments.create({
    name: `env-${label}-${platform.prefix}`,
    config: { type: 'cloud', networking: { type: 'limited' } },
  });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });

  await send(session.id, 'Run the build.');
  await confirm(session.id, 1, 'allow');
  await waitForIdle(harness, session.id, 'end_turn', 1);

  await send(session.id, 'Clean up.');
  await confirm(session.id, 2, 'deny');
  await waitForIdle(harness, session.id, 'end_turn', 2);

  await send(session.id, 'Think it over.');
  await eventually(async () => (platform.fakeModel.held().includes(holdKey) ? true : undefined));
  await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
  await waitForIdle(harness, session.id, 'end_turn', 3);
  return { session, model, events: await listEvents(harness, session.id) };
}

const shape = (events: SessionEvent[]) =>
  events.map((event) =>
    event.type === 'agent.tool_use'
      ? `${event.type}:${event.name}:${event.evaluated_permission}`
      : event.type === 'agent.tool_result'
        ? `${event.type}:${event.is_error ? 'error' : 'ok'}`
        : event.type,
  );

it('runs the scripted conversation through Codex with the native loop’s events, the key kept out', async () => {
  const native = await converse('native', nativeBash);
  const codex = await converse('codex', codexBash, 'codex');

  expect(shape(codex.events)).toEqual(shape(native.events));
  const results = codex.events.filter((event) => event.type === 'agent.tool_result');
  expect(JSON.stringify(results[0])).toContain('built');
  const uses = codex.events.filter((event) => event.type === 'agent.tool_use');
  expect(uses[0]).toMatchObject({ input: { command: 'echo built > /workspace/out.txt && cat /workspace/out.txt' } });

  // The model calls reached the fake model through the gateway (Codex's own headers stay behind), each one after the
  // first with the earlier turns.
  const requests = platform.fakeModel.requests(codex.model);
  expect(requests.length).toBe(5);
  expect(requests.every((request) => request.path === '/v1/responses')).toBe(true);
  expect(requests[0]!.headers.originator).toBeUndefined();
  expect(JSON.stringify(requests[4]!.body.input)).toContain('Left it in place.');

  // Usage: on the session, in its spans and in the ledger (metered by the gateway).
  const retrieved = await client.beta.sessions.retrieve(codex.session.id);
  expect(retrieved.usage?.input_tokens).toBeGreaterThan(0);
  const ledger = await platform.pool.query<{ n: string }>(
    `select count(*) as n from usage_ledger where session_id = $1 and kind = 'model_tokens'`,
    [codex.session.id],
  );
  expect(Number(ledger.rows[0]!.n)).toBeGreaterThanOrEqual(4);

  // The trace renders and names the harness.
  const traceResponse = await harness.request(`/v1/sessions/${codex.session.id}/trace`);
  expect(traceResponse.status).toBe(200);
  const trace = sessionTraceSchema.parse(await traceResponse.json());
  expect(trace.harness).toEqual({ type: 'codex' });
  expect(trace.turns).toHaveLength(3);
  expect(trace.totals.tool_calls).toBe(2);
  expect(trace.totals.input_tokens).toBeGreaterThan(0);

  // The provider key is nowhere in the sandbox: not in any process's environment or command line, not in a file.
  const docker = new Docker();
  const [container] = await docker.listContainers({
    filters: { label: [`io.temporal-agents.session=${codex.session.id}`] },
  });
  expect(container).toBeDefined();
  const probe = await runProcess(docker.getContainer(container!.Id), {
    // The key never appears whole in the probe's own command line: its halves are joined by printf, and grep
    // reads the pattern from its stdin.
    argv: [
      'sh',
      '-c',
      `key() { printf '%s%s\\n' '${providerKey.slice(0, 12)}' '${providerKey.slice(12)}'; };` +
        ` for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do key | grep -aF -f - "$f" 2>/dev/null; done | wc -l;` +
        ` key | grep -rlsI -D skip -F -f - / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev | wc -l;` +
        ` cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c '^AGENTS_MODEL_GATEWAY_TOKEN=sk-agents-gw-'`,
    ],
    maxBytes: 4096,
  });
  const [inProcesses, inFiles, tokenHolders] = probe.stdout.toString('utf8').trim().split(/\s+/).map(Number);
  expect({ inProcesses, inFiles }).toEqual({ inProcesses: 0, inFiles: 0 });
  expect(tokenHolders).toBeGreaterThan(0); // Codex holds its session token, not the key
  await recordHistory(platform.client, sessionWorkflowId(codex.session.id), 'codex-harness');
}, 400_000);

/** A custom tool's call answered by the client; returns the session's events. */
async function customToolTurn(label: string, harnessType?: 'codex') {
  const model = `${platform.prefix}-${label}`;
  platform.fakeModel.setScript(model, [
    { toolCalls: [{ name: 'get_weather', input: { city: 'Paris' } }] },
    { text: 'It is sunny in Paris.' },
  ]);
  const params: AgentCreateParams = {
    name: `agent-${label}`,
    model: { id: model, provider: 'openai-responses' } as unknown as AgentCreateParams['model'],
    tools: [
      {
        type: 'custom',
        name: 'get_weather',
        description: 'The weather in a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    ],
  };
  const agent = await client.beta.agents.create(
    (harnessType ? { ...params, harness: { type: harnessType } } : params) as AgentCreateParams,
  );
  const environment = await client.beta.environments.create({
    name: `env-${label}-${platform.prefix}`,
    config: { type: 'cloud', networking: { type: 'limited' } },
  });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  await send(session.id, 'What is the weather?');
  const use = (await nthOf(session.id, 'agent.custom_tool_use', 1)) as Extract<
    SessionEvent,
    { type: 'agent.custom_tool_use' }
  >;
  expect(use).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
  await waitForIdle(harness, session.id, 'requires_action', 1);
  await client.beta.sessions.events.send(session.id, {
    events: [
      { type: 'user.custom_tool_result', custom_tool_use_id: use.id, content: [{ type: 'text', text: 'sunny-42' }] },
    ],
  });
  await waitForIdle(harness, session.id, 'end_turn', 1);
  return { model, events: await listEvents(harness, session.id) };
}

it('offers the agent’s custom tool to Codex: its call is answered by the client', async () => {
  const native = await customToolTurn('native-custom');
  const codex = await customToolTurn('codex-custom', 'codex');
  expect(shape(codex.events)).toEqual(shape(native.events));

  const requests = platform.fakeModel.requests(codex.model);
  expect(requests.length).toBe(2);
  // Codex's model was offered the tool with its schema, and read the client's result back.
  expect(JSON.stringify(requests[0]!.body.tools)).toContain('get_weather');
  const output = (requests[1]!.body.input as Array<Record<string, unknown>>).find(
    (item) => item.type === 'function_call_output',
  );
  expect(JSON.stringify(output)).toContain('sunny-42');
  const messages = codex.events.filter((event) => event.type === 'agent.message');
  expect(JSON.stringify(messages.at(-1))).toContain('It is sunny in Paris.');
}, 300_000);
