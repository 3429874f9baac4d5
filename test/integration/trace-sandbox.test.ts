// The trace's sandbox section on a real session through the API: bash tool calls, short idle timers and a
// continue-as-new after every turn, so the lifecycle (create, snapshot, pause, snapshot + remove, restore) spans several
// workflow runs that the API must follow; and a trace that still answers when Temporal's history cannot be read.
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SandboxSpan, SessionTrace } from '../../domain/trace/schema.ts';
import { eventually, startApiOn, type ApiHarness } from '../support/api-harness.ts';
import { post, waitForIdle } from '../fixtures/trace/scenario.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

let platform: TestPlatform;
let harness: ApiHarness;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  platform = await startTestPlatform({ label: 'trace-sandbox', workers: ['session', 'model', 'sandbox'] });
  harness = await startApiOn(platform, 'trace-sandbox', {
    sessionSettings: { idlePauseMs: 1_000, idleSnapshotMs: 2_500, continueAsNewEveryTurns: 1 },
  });
});
afterAll(async () => {
  for (const close of closers) await close();
  await harness?.stop();
  await platform?.stop();
});

type TraceResponse = SessionTrace & { workflow_id: string };

async function trace(api: ApiHarness, sessionId: string): Promise<TraceResponse> {
  const response = await api.request(`/v1/sessions/${sessionId}/trace`);
  expect(response.status).toBe(200);
  return (await response.json()) as TraceResponse;
}

const kinds = (spans: SandboxSpan[] | undefined) => (spans ?? []).map((span) => span.kind);

it('shows the sandbox lifecycle across workflow runs: create, snapshot, pause, snapshot, remove, restore', async () => {
  const model = `${platform.prefix}-lifecycle`;
  platform.fakeModel.setScript(model, [
    { toolCalls: [{ name: 'bash', input: { command: 'echo one > state.txt' } }] },
    { text: 'wrote it' },
    { toolCalls: [{ name: 'bash', input: { command: 'cat state.txt' } }] },
    { text: 'read it' },
  ]);
  const agent = await post(harness, '/v1/agents', {
    name: 'sandbox trace',
    model,
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  const environment = await post(harness, '/v1/environments', { name: `env-${platform.prefix}-lifecycle` });
  const session = await post(harness, '/v1/sessions', { agent: agent.id, environment_id: environment.id });
  const send = (text: string) =>
    post(harness, `/v1/sessions/${session.id}/events`, {
      events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
    });

  await send('write state');
  await waitForIdle(harness, session.id, 'end_turn', 1);
  // Idle: paused after 1 s, snapshotted and removed after 2.5 s — in the run that continued the first one.
  const idle = await eventually(
    async () => {
      const body = await trace(harness, session.id);
      return kinds(body.sandbox?.spans).includes('remove') ? body : undefined;
    },
    30_000,
    'the idle sandbox removed',
  );
  expect(kinds(idle.sandbox?.spans)).toEqual(['create', 'snapshot', 'pause', 'snapshot', 'remove']);

  await send('read state');
  await waitForIdle(harness, session.id, 'end_turn', 2);
  const body = await trace(harness, session.id);
  const spans = body.sandbox!.spans;
  expect(kinds(spans).slice(0, 6)).toEqual(['create', 'snapshot', 'pause', 'snapshot', 'remove', 'restore']);
  expect(spans.slice(0, 6).map((span) => span.summary)).toEqual([
    'create sandbox',
    'snapshot workspace',
    'pause idle sandbox',
    'snapshot idle sandbox',
    'remove idle sandbox',
    'restore sandbox from snapshot',
  ]);
  for (const span of spans.slice(0, 6)) {
    expect(span).toMatchObject({ status: 'completed', duration_ms: expect.any(Number), ended_at: expect.any(String) });
  }
  // Creation goes through the shared queue, later operations to the host's own.
  expect(spans[0]!.host_queue).not.toBe(spans[1]!.host_queue);
  expect(body.sandbox).toMatchObject({ older_runs_omitted: false });
  expect(body.sandbox!.runs_read).toBeGreaterThanOrEqual(2);
  // The event-log part of the trace is unchanged.
  expect(body.totals).toMatchObject({ turns: 2, tool_calls: 2, model_requests: 4 });

  // The OpenAPI document describes the section.
  const openapi = JSON.stringify(await (await harness.request('/openapi.json')).json());
  expect(openapi).toContain('older_runs_omitted');

  expect((await harness.request(`/v1/sessions/${session.id}`, { method: 'DELETE' })).status).toBe(200);
});

it('reads at most the 10 newest runs, and answers without the section when Temporal cannot be read', async () => {
  const model = `${platform.prefix}-runs`;
  const turns = 11;
  platform.fakeModel.setScript(
    model,
    Array.from({ length: turns }, (_, index) => ({ text: `answer ${index + 1}` })),
  );
  const agent = await post(harness, '/v1/agents', { name: 'many runs', model, tools: [] });
  const environment = await post(harness, '/v1/environments', { name: `env-${platform.prefix}-runs` });
  const session = await post(harness, '/v1/sessions', { agent: agent.id, environment_id: environment.id });
  // Queued together: the session runs them one turn after another.
  await post(harness, `/v1/sessions/${session.id}/events`, {
    events: Array.from({ length: turns }, (_, index) => ({
      type: 'user.message',
      content: [{ type: 'text', text: `turn ${index + 1}` }],
    })),
  });
  await waitForIdle(harness, session.id, 'end_turn', turns);
  // A run per turn (continue-as-new after each): 11 or 12 runs, of which the newest 10 are read. No sandboxed tool,
  // no sandbox.
  expect((await trace(harness, session.id)).sandbox).toEqual({ spans: [], runs_read: 10, older_runs_omitted: true });

  // A second API whose Temporal is unreachable, reading the same database (and tenant: same key).
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  closers.push(() => connection.close());
  const unreachable = await startApiOn(platform, 'trace-sandbox-unreachable', {
    temporalClient: new Client({ connection, dataConverter: platform.dataConverter }),
  });
  closers.push(() => unreachable.stop());
  const response = await unreachable.request(`/v1/sessions/${session.id}/trace`, { apiKey: harness.tenant.apiKey });
  expect(response.status).toBe(200);
  const body = (await response.json()) as TraceResponse;
  expect(body).not.toHaveProperty('sandbox');
  expect(body.totals).toMatchObject({ turns, model_requests: turns });
  expect(unreachable.logLines.some((line) => line.includes('omits the sandbox lifecycle'))).toBe(true);
});
