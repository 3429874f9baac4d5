// The Claude Agent SDK harness through the official SDK, against the fake model server: Claude Code (the SDK's
// native build) runs inside the session's Docker sandbox and reaches the fake model only through the platform's model
// gateway (by the sandbox's egress proxy), with a session token. One scripted conversation — a bash call in the
// sandbox, an `always_ask` write approved by the client, a custom tool answered by the client, an interrupt — runs
// through the native loop and through the harness: the same event kinds in the same order. Usage is recorded (events
// and ledger), and the provider key is nowhere in the sandbox (environment, processes, files).
import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SessionEvent } from '../../domain/events.ts';
import type { FakeTurn } from '../fake-model/script.ts';
import { runProcess } from '../../activities/sandbox/docker-stream.ts';
import { listEvents, waitForIdle } from '../fixtures/trace/scenario.ts';
import { eventually, startApiOn, type ApiHarness } from '../support/api-harness.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

const providerKey = `sk-ant-provider-${randomBytes(12).toString('hex')}`;
let platform: TestPlatform;
let harness: ApiHarness;
let client: Anthropic;

beforeAll(async () => {
  platform = await startTestPlatform({
    label: 'claude-harness',
    workers: ['session', 'model', 'sandbox'],
    privateNetworkAllowlist: ['127.0.0.0/8'],
    egress: {},
    claudeHarness: { providerKey },
  });
  harness = await startApiOn(platform, 'claude-harness');
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});

afterAll(async () => {
  await harness?.stop();
  await platform?.stop();
});

/** The tool names each loop's model sees: the platform's own, or Claude Code's. */
interface Names {
  bash: string;
  write: string;
  writeInput: (path: string, content: string) => Record<string, unknown>;
  custom: string;
}
const nativeNames: Names = {
  bash: 'bash',
  write: 'write',
  writeInput: (path, content) => ({ path, content }),
  custom: 'lookup_order',
};
const claudeNames: Names = {
  bash: 'Bash',
  write: 'Write',
  writeInput: (path, content) => ({ file_path: path, content }),
  custom: 'mcp__platform__lookup_order',
};

const script = (names: Names, holdKey: string): FakeTurn[] => [
  {
    toolCalls: [{ name: names.bash, input: { command: 'echo built > /workspace/out.txt && cat /workspace/out.txt' } }],
  },
  { text: 'Built.' },
  { toolCalls: [{ name: names.write, input: names.writeInput('/workspace/note.txt', 'remember') }] },
  { text: 'Saved.' },
  { toolCalls: [{ name: names.custom, input: { order_id: '7' } }] },
  { text: 'Order 7 has shipped.' },
  { text: 'Thinking for a long time about this', holdAfterFirstChunk: holdKey },
];

async function createAgent(model: string, harnessType?: 'claude_agent_sdk') {
  return client.beta.agents.create({
    name: `agent-${harnessType ?? 'native'}`,
    model,
    tools: [
      {
        type: 'agent_toolset_20260401',
        default_config: { enabled: false },
        configs: [
          { name: 'bash', enabled: true, permission_policy: { type: 'always_allow' } },
          { name: 'write', enabled: true, permission_policy: { type: 'always_ask' } },
        ],
      },
      {
        type: 'custom',
        name: 'lookup_order',
        description: 'Looks an order up',
        input_schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
      },
    ],
    ...(harnessType ? { harness: { type: harnessType } } : {}),
  });
}

const send = (sessionId: string, text: string) =>
  client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });

const awaited = async (sessionId: string, type: string, count: number) =>
  eventually(async () => (await listEvents(harness, sessionId)).filter((event) => event.type === type)[count - 1]);

/** Runs the scripted conversation; returns the session's events. */
async function converse(label: string, names: Names, harnessType?: 'claude_agent_sdk') {
  const model = `${platform.prefix}-${label}`;
  const holdKey = `${platform.prefix}-${label}-hold`;
  platform.fakeModel.setScript(model, script(names, holdKey));
  const agent = await createAgent(model, harnessType);
  const environment = await client.beta.environments.create({
    name: `env-${label}-${platform.prefix}`,
    config: { type: 'cloud', networking: { type: 'limited' } },
  });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });

  await send(session.id, 'Run the build.');
  await waitForIdle(harness, session.id, 'end_turn', 1);

  await send(session.id, 'Save a note.');
  const ask = (await awaited(session.id, 'agent.tool_use', 2)) as Extract<SessionEvent, { type: 'agent.tool_use' }>;
  expect(ask).toMatchObject({ name: 'write', evaluated_permission: 'ask' });
  await waitForIdle(harness, session.id, 'requires_action', 1);
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.tool_confirmation', tool_use_id: ask.id, result: 'allow' }],
  });
  await waitForIdle(harness, session.id, 'end_turn', 2);

  await send(session.id, 'Look up order 7.');
  const custom = await awaited(session.id, 'agent.custom_tool_use', 1);
  expect(custom).toMatchObject({ name: 'lookup_order', input: { order_id: '7' } });
  await waitForIdle(harness, session.id, 'requires_action', 2);
  await client.beta.sessions.events.send(session.id, {
    events: [
      { type: 'user.custom_tool_result', custom_tool_use_id: custom.id, content: [{ type: 'text', text: 'shipped' }] },
    ],
  });
  await waitForIdle(harness, session.id, 'end_turn', 3);

  await send(session.id, 'Think it over.');
  await eventually(async () => (platform.fakeModel.held().includes(holdKey) ? true : undefined));
  await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
  await waitForIdle(harness, session.id, 'end_turn', 4);
  return { session, model, events: await listEvents(harness, session.id) };
}

const shape = (events: SessionEvent[]) =>
  events.map((event) =>
    event.type === 'agent.tool_use' ? `${event.type}:${event.name}:${event.evaluated_permission}` : event.type,
  );

it('runs the scripted conversation through Claude Code with the native loop’s events, the key kept out', async () => {
  const native = await converse('native', nativeNames);
  const claude = await converse('claude', claudeNames, 'claude_agent_sdk');

  expect(shape(claude.events)).toEqual(shape(native.events));
  const results = claude.events.filter((event) => event.type === 'agent.tool_result');
  expect(JSON.stringify(results[0])).toContain('built');

  // The model calls reached the fake model through the gateway, each one after the first with the earlier turns.
  const requests = platform.fakeModel.requests(claude.model);
  expect(requests.length).toBe(7);
  expect(JSON.stringify(requests[6]!.body.messages)).toContain('shipped');

  // Usage: in the session's events and in the ledger (metered by the gateway).
  const retrieved = await client.beta.sessions.retrieve(claude.session.id);
  expect(retrieved.usage?.input_tokens).toBeGreaterThan(0);
  const ledger = await platform.pool.query<{ n: string }>(
    `select count(*) as n from usage_ledger where session_id = $1 and kind = 'model_tokens'`,
    [claude.session.id],
  );
  expect(Number(ledger.rows[0]!.n)).toBeGreaterThanOrEqual(6);

  // The provider key is nowhere in the sandbox: not in any process's environment or command line, not in a file.
  const docker = new Docker();
  const [container] = await docker.listContainers({
    filters: { label: [`io.temporal-agents.session=${claude.session.id}`] },
  });
  expect(container).toBeDefined();
  const probe = await runProcess(docker.getContainer(container!.Id), {
    // The key never appears whole in the probe's own command line: its halves are joined by printf, and grep
    // reads the pattern from its stdin.
    argv: [
      'sh',
      '-c',
      `key() { printf '%s%s\\n' '${providerKey.slice(0, 16)}' '${providerKey.slice(16)}'; };` +
        ` for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do key | grep -aF -f - "$f" 2>/dev/null; done | wc -l;` +
        ` key | grep -rlsI -D skip -F -f - / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev | wc -l;` +
        ` cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c '^ANTHROPIC_API_KEY=sk-agents-gw-'`,
    ],
    maxBytes: 4096,
  });
  const output = probe.stdout.toString('utf8');
  const [inProcesses, inFiles, tokenHolders] = output.trim().split(/\s+/).map(Number);
  expect({ inProcesses, inFiles }).toEqual({ inProcesses: 0, inFiles: 0 });
  expect(tokenHolders).toBeGreaterThan(0); // Claude Code holds its session token, not the key
}, 400_000);
