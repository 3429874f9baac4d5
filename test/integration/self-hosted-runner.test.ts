// Self-hosted environments against the official SDK's runner, unmodified, in processes of the test's: a session made
// through the SDK has its bash, write and read calls run in the runner's workdir and answered as user.tool_result
// events; a runner killed mid-tool loses its lease and the next runner finishes the session, each call's effect once.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import type { SessionTrace, ToolSpan } from '../../domain/trace/schema.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { recordHistory } from '../support/histories.ts';
import { crashRunner, startOfficialRunner } from '../support/runner-processes.ts';

const leaseTtlSeconds = 3;
let harness: ApiHarness;
let client: Anthropic;
let environmentId: string;
let environmentKey: string;
const runners: ManagedProcess[] = [];

beforeAll(async () => {
  harness = await startApiHarness('self-hosted', {
    workers: ['session', 'model'],
    config: { AGENTS_WORK_LEASE_TTL_SECONDS: String(leaseTtlSeconds) },
  });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const environment = await client.beta.environments.create({
    name: `self-hosted-${harness.platform.prefix}`,
    config: { type: 'self_hosted' },
  });
  expect(environment.config).toEqual({ type: 'self_hosted' });
  environmentId = environment.id;
  const created = await harness.request(`/v1/environments/${environmentId}/keys`, {
    method: 'POST',
    body: JSON.stringify({ name: 'test runner' }),
  });
  expect(created.status).toBe(200);
  const key = (await created.json()) as { key: string; key_hint: string };
  expect(key.key.endsWith(key.key_hint)).toBe(true);
  environmentKey = key.key;
});

afterAll(async () => {
  for (const line of harness?.logLines ?? []) if (line.includes('"level":50')) console.error(line.slice(0, 2000));
  for (const runner of runners) await runner.stop('SIGKILL');
  await harness?.stop();
});

async function startRunner(workdir: string): Promise<ManagedProcess> {
  const runner = await startOfficialRunner({ baseURL: harness.baseURL, environmentId, environmentKey, workdir });
  runners.push(runner);
  return runner;
}

async function newSession(model: string): Promise<string> {
  const agent = await client.beta.agents.create({
    name: `runner agent ${model}`,
    model,
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environmentId });
  return session.id;
}

async function allEvents(sessionId: string): Promise<BetaManagedAgentsSessionEvent[]> {
  const events: BetaManagedAgentsSessionEvent[] = [];
  for await (const event of client.beta.sessions.events.list(sessionId, { limit: 100 })) events.push(event);
  return events;
}

const turnEnded = (sessionId: string, timeoutMs = 60_000) =>
  eventually(
    async () => {
      const events = await allEvents(sessionId);
      const ended = events.some(
        (event) => event.type === 'session.status_idle' && event.stop_reason.type === 'end_turn',
      );
      return ended ? events : undefined;
    },
    timeoutMs,
    'the turn to end',
  );

const send = (sessionId: string, text: string) =>
  client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });

const resultText = (event: BetaManagedAgentsSessionEvent): string =>
  event.type === 'user.tool_result'
    ? (event.content ?? []).map((block) => (block.type === 'text' ? block.text : '')).join('')
    : '';

it('serves a session with the official runner: bash, write and read in its workdir, results as events', async () => {
  const model = `${harness.platform.prefix}-serve`;
  harness.platform.fakeModel.setScript(model, [
    {
      toolCalls: [
        { name: 'write', input: { file_path: 'notes.txt', content: 'hello from the runner\n' } },
        { name: 'bash', input: { command: 'echo appended >> notes.txt && pwd' } },
      ],
    },
    { toolCalls: [{ name: 'read', input: { file_path: 'notes.txt' } }] },
    { text: 'Done.' },
  ]);
  const sessionId = await newSession(model);
  const workdir = mkdtempSync(join(tmpdir(), 'runner-workdir-'));
  const runner = await startRunner(workdir);
  await send(sessionId, 'Write, append, read.');

  const events = await turnEnded(sessionId);
  const uses = events.filter((event) => event.type === 'agent.tool_use');
  const results = events.filter((event) => event.type === 'user.tool_result');
  expect(uses.map((event) => event.name)).toEqual(['write', 'bash', 'read']);
  expect(results.map((event) => event.tool_use_id)).toEqual(uses.map((event) => event.id));
  expect(results.every((event) => event.type === 'user.tool_result' && event.is_error === false)).toBe(true);
  expect(resultText(results[1]!)).toContain(workdir);
  expect(resultText(results[2]!)).toContain('hello from the runner');
  expect(readFileSync(join(workdir, 'notes.txt'), 'utf8')).toBe('hello from the runner\nappended\n');
  expect(events.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
  // The model saw the runner's results as tool results.
  const lastRequest = harness.platform.fakeModel.requests(model).at(-1);
  expect(JSON.stringify(lastRequest?.body)).toContain('hello from the runner');

  await recordHistory(harness.platform.client, sessionWorkflowId(sessionId), 'self-hosted-runner-at-turn-start');
  // The trace closes each call with the runner's result.
  const trace = (await (await harness.request(`/v1/sessions/${sessionId}/trace`)).json()) as SessionTrace;
  const spans = trace.turns.flatMap((turn) => turn.spans).filter((span): span is ToolSpan => span.kind === 'tool');
  expect(spans.map((span) => [span.name, span.status])).toEqual([
    ['write', 'ok'],
    ['bash', 'ok'],
    ['read', 'ok'],
  ]);
  expect(spans[0]?.file).toMatchObject({ path: 'notes.txt', operation: 'write' });

  const items = await client.beta.environments.work.list(environmentId);
  expect(items.data.find((item) => item.data.id === sessionId)).toMatchObject({ state: 'active', secret: null });
  await runner.stop('SIGTERM'); // the runner force-stops the item it holds on its way out
  await runner.exited;
  const item = (await client.beta.environments.work.list(environmentId)).data.find((i) => i.data.id === sessionId);
  expect(item?.state).toBe('stopped');
});

it('re-delivers the item after a killed runner’s lease lapses; the next runner finishes, each effect once', async () => {
  const model = `${harness.platform.prefix}-kill`;
  harness.platform.fakeModel.setScript(model, [
    { toolCalls: [{ name: 'bash', input: { command: 'echo one >> log.txt' } }] },
    { toolCalls: [{ name: 'bash', input: { command: 'touch started && sleep 3 && echo two >> log.txt' } }] },
    { text: 'Both lines written.' },
  ]);
  const sessionId = await newSession(model);
  const workdir = mkdtempSync(join(tmpdir(), 'runner-workdir-'));
  const first = await startRunner(workdir);
  await send(sessionId, 'Write two lines.');
  await eventually(async () => (existsSync(join(workdir, 'started')) ? true : undefined), 60_000, 'the second call');
  await crashRunner(first); // mid-tool: the runner and its shell die, before the second line is written
  expect(readFileSync(join(workdir, 'log.txt'), 'utf8')).toBe('one\n');

  await startRunner(workdir);
  const events = await turnEnded(sessionId);
  expect(readFileSync(join(workdir, 'log.txt'), 'utf8')).toBe('one\ntwo\n');
  const uses = events.filter((event) => event.type === 'agent.tool_use');
  const results = events.filter((event) => event.type === 'user.tool_result');
  expect(uses).toHaveLength(2);
  expect(results.map((event) => event.tool_use_id)).toEqual(uses.map((event) => event.id));
  expect(events.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
  await recordHistory(harness.platform.client, sessionWorkflowId(sessionId), 'self-hosted-runner-crash-at-turn-start');
});

it('honours always_ask: the runner runs an allowed call once confirmed, and never a denied one', async () => {
  const model = `${harness.platform.prefix}-ask`;
  harness.platform.fakeModel.setScript(model, [
    {
      toolCalls: [
        { name: 'bash', input: { command: 'echo allowed >> asked.txt' } },
        { name: 'bash', input: { command: 'echo denied >> asked.txt' } },
      ],
    },
    { text: 'One ran, one was denied.' },
  ]);
  const agent = await client.beta.agents.create({
    name: `ask ${model}`,
    model,
    tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_ask' } } }],
  });
  const sessionId = (await client.beta.sessions.create({ agent: agent.id, environment_id: environmentId })).id;
  const workdir = mkdtempSync(join(tmpdir(), 'runner-workdir-'));
  const runner = await startRunner(workdir);
  await send(sessionId, 'Run both.');
  const [allowed, denied] = await eventually(
    async () => {
      const events = await allEvents(sessionId);
      const asked = events.filter((event) => event.type === 'agent.tool_use' && event.evaluated_permission === 'ask');
      const idle = events.some(
        (event) => event.type === 'session.status_idle' && event.stop_reason.type === 'requires_action',
      );
      return asked.length === 2 && idle ? asked : undefined;
    },
    60_000,
    'the calls to await confirmation',
  );
  await client.beta.sessions.events.send(sessionId, {
    events: [
      { type: 'user.tool_confirmation', tool_use_id: allowed!.id, result: 'allow' },
      { type: 'user.tool_confirmation', tool_use_id: denied!.id, result: 'deny', deny_message: 'not this one' },
    ],
  });
  const events = await turnEnded(sessionId);
  expect(readFileSync(join(workdir, 'asked.txt'), 'utf8')).toBe('allowed\n');
  expect(events.filter((event) => event.type === 'user.tool_result').map((event) => event.tool_use_id)).toEqual([
    allowed!.id,
  ]);
  expect(events.find((event) => event.type === 'agent.tool_result')).toMatchObject({
    tool_use_id: denied!.id,
    is_error: true,
  });
  await recordHistory(harness.platform.client, sessionWorkflowId(sessionId), 'self-hosted-runner-ask-at-turn-start');
  await runner.stop('SIGTERM');
});
