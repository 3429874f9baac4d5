// The trace model (domain/trace/) read from fixed event logs in test/fixtures/trace/: turns, model requests, tool
// calls with their confirmations, waits on the client, retries, errors, interrupts and metered active time; and the
// sandbox lifecycle from the activity records the API reads from Temporal's history.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import type { SessionEvent } from '../../domain/events.ts';
import { buildSessionTrace } from '../../domain/trace/build.ts';
import { buildSandboxSpans, type SandboxActivityRecord } from '../../domain/trace/sandbox.ts';
import type { ModelRequestSpan, SandboxSpan, ToolSpan, TraceSpan, WaitSpan } from '../../domain/trace/schema.ts';
import { attachSubAgents, firstUserText } from '../../domain/trace/sub-agents.ts';

const fixture = (name: string): SessionEvent[] =>
  (
    JSON.parse(readFileSync(new URL(`../fixtures/trace/${name}.json`, import.meta.url), 'utf8')) as {
      events: SessionEvent[];
    }
  ).events;

const spansOf = <K extends TraceSpan['kind']>(spans: TraceSpan[], kind: K) =>
  spans.filter((span): span is Extract<TraceSpan, { kind: K }> => span.kind === kind);

it('reads a turn with allowed tools, a written file and a confirmed backend tool', () => {
  const trace = buildSessionTrace('sesn_1', fixture('tools-and-approval'));
  expect(trace).toMatchObject({ session_id: 'sesn_1', status: 'idle', event_count: 20, between_turns: [] });
  expect(trace.totals).toEqual({
    input_tokens: 450,
    output_tokens: 60,
    cache_read_input_tokens: 5,
    cache_creation_input_tokens: 3,
    model_requests: 3,
    tool_calls: 3,
    errors: 0,
    turns: 1,
    active_seconds: expect.closeTo(1.612, 6),
  });
  const [turn] = trace.turns;
  expect(turn).toMatchObject({
    index: 1,
    user_message_id: 'sevt_u1',
    text: 'Create hello.txt and refund A-1',
    duration_ms: 5630,
    active_ms: 1612,
    stop_reason: { type: 'end_turn' },
    model_requests: 3,
    tool_calls: 3,
  });
  const models = spansOf(turn!.spans, 'model_request');
  expect(models.map((span: ModelRequestSpan) => [span.id, span.duration_ms, span.attempt, span.tool_use_ids])).toEqual([
    ['sevt_m1', 500, 1, ['sevt_t1', 'sevt_t2']],
    ['sevt_m2', 300, 1, ['sevt_t3']],
    ['sevt_m3', 200, 1, []],
  ]);
  expect(models[0]).toMatchObject({ model: 'claude-sonnet-4-5', is_error: false, usage: { input_tokens: 100 } });

  const tools = new Map(spansOf(turn!.spans, 'tool').map((span: ToolSpan) => [span.id, span]));
  expect(tools.get('sevt_t1')).toMatchObject({
    name: 'bash',
    status: 'ok',
    permission: 'allow',
    duration_ms: 378,
    output_preview: 'hello.txt\n',
    model_request_id: 'sevt_m1',
    confirmation: null,
    file: null,
  });
  expect(tools.get('sevt_t2')?.file).toEqual({
    path: '/workspace/hello.txt',
    operation: 'write',
    preview: 'hello world\n',
    old_preview: null,
  });
  expect(tools.get('sevt_t3')).toMatchObject({
    status: 'ok',
    permission: 'ask',
    wait_ms: 4001,
    duration_ms: 4109,
    confirmation: { event_id: 'sevt_c1', result: 'allow', by: 'user', answered_at: '2026-01-01T00:00:05.302Z' },
  });
  const waits = spansOf(turn!.spans, 'wait');
  expect(waits).toEqual([
    expect.objectContaining({
      id: 'sevt_i1',
      reason: 'tool_confirmation',
      awaiting: ['sevt_t3'],
      answered_by: ['sevt_c1'],
      duration_ms: 4008,
    } satisfies Partial<WaitSpan>),
  ]);
});

it('reads retries, a custom tool, a denial, an interrupt and the end of the session', () => {
  const trace = buildSessionTrace('sesn_2', fixture('retry-custom-deny'));
  expect(trace.status).toBe('terminated');
  expect(trace.totals).toMatchObject({ model_requests: 5, tool_calls: 3, errors: 1, turns: 2, input_tokens: 100 });
  expect(trace.totals.active_seconds).toBeCloseTo(1.904, 6);
  const [first, second] = trace.turns;

  expect(spansOf(first!.spans, 'model_request').map((span) => [span.attempt, span.is_error])).toEqual([
    [1, true],
    [2, false],
    [1, false],
  ]);
  expect(spansOf(first!.spans, 'error')).toEqual([
    expect.objectContaining({ error_type: 'model_overloaded_error', retry_status: 'retrying' }),
  ]);
  expect(spansOf(first!.spans, 'retry_wait')).toEqual([expect.objectContaining({ id: 'sevt_s1', duration_ms: 1000 })]);
  expect(spansOf(first!.spans, 'tool')[0]).toMatchObject({
    tool_kind: 'custom_tool',
    status: 'ok',
    output_preview: 'sunny',
    custom_result_event_id: 'sevt_cr',
    wait_ms: 2001,
  });
  expect(spansOf(first!.spans, 'wait')[0]).toMatchObject({ reason: 'custom_tool_result', answered_by: ['sevt_cr'] });
  expect(first).toMatchObject({ active_ms: 1002, stop_reason: { type: 'end_turn' }, errors: 1 });

  const tools = spansOf(second!.spans, 'tool');
  expect(tools.map((span) => [span.id, span.status])).toEqual([
    ['sevt_d1', 'denied'],
    ['sevt_d2', 'cancelled'],
  ]);
  expect(tools[0]?.confirmation).toMatchObject({ result: 'deny', deny_message: 'not that' });
  expect(tools[1]).toMatchObject({ ended_at: '2026-01-01T00:01:03.001Z' });
  expect(spansOf(second!.spans, 'wait').map((span) => [span.duration_ms, span.answered_by])).toEqual([
    [1000, ['sevt_dc']],
    [1099, []],
  ]);
  expect(spansOf(second!.spans, 'interrupt')).toEqual([
    { kind: 'interrupt', id: 'sevt_x1', at: '2026-01-01T00:01:03.000Z' },
  ]);
  expect(second).toMatchObject({ active_ms: 902, stop_reason: { type: 'end_turn' } });
});

it('counts a session still running up to now', () => {
  const events = fixture('tools-and-approval').slice(0, 4); // running since 00:00:00.010
  const trace = buildSessionTrace('sesn_3', events, { nowMs: Date.parse('2026-01-01T00:00:10.010Z') });
  expect(trace.status).toBe('running');
  expect(trace.totals.active_seconds).toBeCloseTo(10, 6);
  expect(trace.turns[0]).toMatchObject({ ended_at: null, stop_reason: null, active_ms: 10_000 });
});

it('attaches a sub-agent session to the tool call whose prompt started it', () => {
  const parentEvents: SessionEvent[] = [
    {
      id: 'u',
      type: 'user.message',
      processed_at: '2026-01-01T00:00:00.000Z',
      content: [{ type: 'text', text: 'go' }],
    },
    {
      id: 'call',
      type: 'agent.tool_use',
      processed_at: '2026-01-01T00:00:01.000Z',
      name: 'researcher',
      input: { prompt: 'find it' },
      evaluated_permission: 'allow',
    },
  ];
  const childEvents = fixture('tools-and-approval').map((event) =>
    event.type === 'user.message' ? { ...event, content: [{ type: 'text' as const, text: 'find it' }] } : event,
  );
  const parent = buildSessionTrace('sesn_parent', parentEvents);
  const stray = buildSessionTrace('sesn_stray', []);
  const unclaimed = attachSubAgents(parent, [
    { prompt: firstUserText(childEvents), trace: buildSessionTrace('sesn_child', childEvents) },
    { prompt: undefined, trace: stray },
  ]);
  expect(unclaimed).toEqual([stray]);
  const call = spansOf(parent.turns[0]!.spans, 'tool')[0];
  expect(call?.sub_agent).toMatchObject({ session_id: 'sesn_child', totals: { model_requests: 3 } });
});

it('reads the sandbox lifecycle from its activities: create, restore, pause, resume, snapshot, remove', () => {
  const { records } = JSON.parse(
    readFileSync(new URL('../fixtures/trace/sandbox-activities.json', import.meta.url), 'utf8'),
  ) as { records: SandboxActivityRecord[] };
  const spans = buildSandboxSpans(records);
  expect(spans.map((span: SandboxSpan) => [span.kind, span.summary, span.status, span.duration_ms])).toEqual([
    ['create', 'create sandbox', 'completed', 108],
    ['snapshot', 'snapshot workspace', 'completed', 66],
    ['pause', 'pause idle sandbox', 'completed', 21],
    ['snapshot', 'snapshot idle sandbox', 'completed', 95],
    ['remove', 'remove idle sandbox', 'completed', 106],
    ['restore', 'restore sandbox from snapshot', 'completed', 127],
    ['snapshot', 'snapshot workspace', 'completed', 69],
    // Never started (its host was gone): the span covers the wait from scheduling to the timeout.
    ['pause', 'pause idle sandbox', 'timed_out', 10_000],
    ['pause', 'pause idle sandbox', 'completed', 23],
    ['resume', 'resume sandbox', 'failed', 27],
    // No summary: a restore because a snapshot completed before it.
    ['restore', null, 'completed', 245],
    ['snapshot', 'snapshot workspace', 'running', null],
  ]);
  expect(spans[0]).toEqual({
    kind: 'create',
    summary: 'create sandbox',
    scheduled_at: '2026-11-21T14:25:30.500Z',
    started_at: '2026-11-21T14:25:30.525Z',
    ended_at: '2026-11-21T14:25:30.633Z',
    duration_ms: 108,
    status: 'completed',
    host_queue: 'agents-sandbox',
  });
  expect(spans[7]).toMatchObject({ started_at: '2026-11-21T14:25:34.500Z', error: 'activity ScheduleToStart timeout' });
  expect(spans[9]).toMatchObject({ error: 'container 3f2a is gone' });
  expect(spans.at(-1)).toMatchObject({ ended_at: null, started_at: '2026-11-21T14:25:36.200Z' });

  // Without summaries a first create is a create; runTool is a tool call, not part of the lifecycle.
  const bare = buildSandboxSpans(records.map(({ summary: _summary, ...record }) => record));
  expect(bare.map((span) => span.kind)).toEqual(spans.map((span) => span.kind));
  expect(buildSandboxSpans([])).toEqual([]);
});
