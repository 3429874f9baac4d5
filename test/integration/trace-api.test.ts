// GET /v1/sessions/{id}/trace on a real session (fake model, real sandbox and backend tool): the spans the turn
// produced, tenant scoping, the OpenAPI entry — and metering: /v1/usage agrees with the trace's totals.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTenantWithKey } from '../../db/repositories/tenants.ts';
import type { ModelRequestSpan, SessionTrace, ToolSpan, TraceSpan } from '../../domain/trace/schema.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { createScriptedSession, post, runScriptedTurn, waitForIdle, writtenFile } from '../fixtures/trace/scenario.ts';

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('trace-api', { workers: ['session', 'model', 'sandbox', 'backend'] });
});
afterAll(async () => {
  await harness?.stop();
});

type TraceResponse = SessionTrace & { workflow_id: string; workflow_url: string; sub_agents: SessionTrace[] };

const spansOf = <K extends TraceSpan['kind']>(spans: TraceSpan[], kind: K) =>
  spans.filter((span): span is Extract<TraceSpan, { kind: K }> => span.kind === kind);

it('traces a turn with sandbox tools and a confirmed backend tool, and meters it like /v1/usage', async () => {
  const { sessionId } = await createScriptedSession(harness, 'api');
  const confirmed = await runScriptedTurn(harness, sessionId);

  const response = await harness.request(`/v1/sessions/${sessionId}/trace`);
  expect(response.status).toBe(200);
  const trace = (await response.json()) as TraceResponse;
  expect(trace).toMatchObject({
    session_id: sessionId,
    status: 'idle',
    workflow_id: `session-${sessionId}`,
    workflow_url: `http://127.0.0.1:8233/namespaces/default/workflows/session-${sessionId}`,
    sub_agents: [],
    totals: { model_requests: 3, tool_calls: 3, errors: 0, turns: 1 },
  });
  const [turn] = trace.turns;
  expect(turn).toMatchObject({
    index: 1,
    stop_reason: { type: 'end_turn' },
    text: 'Write the report and refund A-1001.',
  });
  const models = spansOf(turn!.spans, 'model_request');
  expect(models.map((span: ModelRequestSpan) => [span.is_error, span.tool_use_ids.length])).toEqual([
    [false, 2],
    [false, 1],
    [false, 0],
  ]);
  const tools = spansOf(turn!.spans, 'tool');
  const byName = new Map(tools.map((span: ToolSpan) => [span.name, span]));
  expect(byName.get('bash')).toMatchObject({
    status: 'ok',
    permission: 'allow',
    output_preview: expect.stringContaining('hello from the sandbox'),
  });
  expect(byName.get('write')).toMatchObject({
    status: 'ok',
    file: { path: writtenFile.path, operation: 'write', preview: writtenFile.content },
  });
  expect(byName.get('refund_order')).toMatchObject({
    id: confirmed,
    status: 'ok',
    permission: 'ask',
    // The audit trail: the key that approved it.
    confirmation: {
      result: 'allow',
      by: 'user',
      approved_by: { api_key_id: harness.tenant.keyId, api_key_name: 'default' },
    },
  });
  expect(turn!.sent_by).toEqual({ api_key_id: harness.tenant.keyId, api_key_name: 'default' });
  expect(spansOf(turn!.spans, 'wait')).toEqual([
    expect.objectContaining({ reason: 'tool_confirmation', awaiting: [confirmed], answered_by: [expect.any(String)] }),
  ]);
  for (const span of [...models, ...tools]) expect(span.duration_ms).toEqual(expect.any(Number));

  // Metering: the tenant's usage report agrees with the trace, for the session and in total.
  const usage = (await (await harness.request('/v1/usage')).json()) as {
    data: ({ session_id: string } & Record<string, number>)[];
    total: Record<string, number>;
  };
  const row = usage.data.find((entry) => entry.session_id === sessionId);
  expect(row).toMatchObject({
    input_tokens: trace.totals.input_tokens,
    output_tokens: trace.totals.output_tokens,
    cache_read_input_tokens: trace.totals.cache_read_input_tokens,
    cache_creation_input_tokens: trace.totals.cache_creation_input_tokens,
    model_requests: trace.totals.model_requests,
  });
  expect(trace.totals.input_tokens).toBeGreaterThan(0);
  expect(row?.active_seconds).toBeCloseTo(trace.totals.active_seconds, 3);
  expect(trace.totals.active_seconds).toBeGreaterThan(0);
  expect(turn!.active_ms / 1000).toBeCloseTo(trace.totals.active_seconds, 3);
  expect(usage.total.active_seconds).toBeCloseTo(trace.totals.active_seconds, 3);

  // Another tenant cannot read it; the route is in the OpenAPI document.
  const other = await createTenantWithKey(harness.platform.pool, 'trace other tenant');
  expect((await harness.request(`/v1/sessions/${sessionId}/trace`, { apiKey: other.apiKey })).status).toBe(404);
  expect((await harness.request(`/v1/sessions/${sessionId}/trace`, { apiKey: null })).status).toBe(401);
  const openapi = (await (await harness.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
  expect(openapi.paths['/v1/sessions/{session_id}/trace']).toBeDefined();

  expect((await harness.request(`/v1/sessions/${sessionId}`, { method: 'DELETE' })).status).toBe(200);
});

it('nests a session thread under the delegate call that started it', async () => {
  const parentModel = `${harness.platform.prefix}-parent`;
  const childModel = `${harness.platform.prefix}-child`;
  harness.platform.fakeModel.setScript(parentModel, [
    { toolCalls: [{ name: 'delegate', input: { agent: 'researcher', message: 'Find the answer.' } }] },
    { text: 'The researcher says 42.' },
  ]);
  harness.platform.fakeModel.setScript(childModel, [{ text: 'The answer is 42.' }]);
  const child = await post(harness, '/v1/agents', { name: 'researcher', model: childModel, tools: [] });
  const parent = await post(harness, '/v1/agents', {
    name: 'lead',
    model: parentModel,
    multiagent: { type: 'coordinator', agents: [child.id] },
  });
  const environment = await post(harness, '/v1/environments', { name: `env-${harness.platform.prefix}-sub` });
  const session = await post(harness, '/v1/sessions', { agent: parent.id, environment_id: environment.id });
  await post(harness, `/v1/sessions/${session.id}/events`, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Ask the researcher.' }] }],
  });
  await waitForIdle(harness, session.id, 'end_turn');

  // Visibility (ParentWorkflowId) is eventually consistent: wait until the child shows.
  const trace = await eventually(
    async () => {
      const body = (await (await harness.request(`/v1/sessions/${session.id}/trace`)).json()) as TraceResponse;
      const call = spansOf(body.turns[0]?.spans ?? [], 'tool')[0];
      return call?.sub_agent ? { body, call } : undefined;
    },
    30_000,
    'the thread in the trace',
  );
  expect(trace.call).toMatchObject({ name: 'delegate', status: 'ok' });
  expect(trace.call.output_preview).toContain('The answer is 42.');
  expect(trace.call.sub_agent).toMatchObject({
    session_id: expect.stringMatching(/^sthr_/),
    totals: { model_requests: 1 },
  });
  expect(trace.body.sub_agents).toEqual([]);
});
