// A session's trace, derived from its event log: turns (a user.message to the idle that ends it), model requests
// (span.model_request_start/end pairs), tool calls grouped by tool_use id (with the confirmation that let them run),
// waits on the client (requires_action idles until the answer), retry waits, errors and interrupts. Pure, so the API,
// the web page and the tests agree on one reading of the log; active time is computed the way /v1/usage computes it.
// The sandbox lifecycle (create, restore, pause, resume, snapshot, remove) is not in the log: the API reads it from the
// workflow's activities in Temporal's history and hands plain records to buildSandboxSpans.
import type { SessionEvent, StopReason, UserContent } from './events.ts';
import type { SandboxTrace } from './sandbox-trace.ts';
import type { EventActor } from './trace-actors.ts';

export interface TraceUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

interface SpanTiming {
  /** The event that opened the span. */
  id: string;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
}

export type ModelRequestSpan = SpanTiming & {
  kind: 'model_request';
  end_event_id: string | null;
  model: string | null;
  summary: string | null;
  /** 1 for a first try; n for the (n-1)th retry after failed attempts. */
  attempt: number;
  is_error: boolean | null;
  usage: TraceUsage;
  /** The tool calls this response asked for. */
  tool_use_ids: string[];
};

export type ToolStatus = 'running' | 'awaiting' | 'ok' | 'error' | 'denied' | 'cancelled';

export interface WrittenFile {
  path: string;
  operation: 'write' | 'edit';
  /** The whole new content (write) or the replacement text (edit), cut to the preview length. */
  preview: string;
  old_preview: string | null;
}

export type ToolSpan = SpanTiming & {
  kind: 'tool';
  name: string;
  tool_kind: 'tool' | 'custom_tool';
  permission: 'allow' | 'ask' | 'deny' | null;
  status: ToolStatus;
  input: Record<string, unknown>;
  output_preview: string | null;
  output_chars: number;
  is_error: boolean | null;
  model_request_id: string | null;
  /** The user.tool_confirmation that decided an `ask` tool (the API key's holder answered it). */
  confirmation: {
    event_id: string;
    result: 'allow' | 'deny';
    deny_message: string | null;
    answered_at: string | null;
    by: 'user';
    /** The API key that sent the confirmation (domain/trace-actors.ts; null when unknown). */
    approved_by?: EventActor | null;
  } | null;
  /** The user.custom_tool_result answering a custom tool. */
  custom_result_event_id: string | null;
  /** Time spent waiting for the client (confirmation or custom result). */
  wait_ms: number | null;
  file: WrittenFile | null;
  /** A sub-agent's own session, when the tool started one. */
  sub_agent: SessionTrace | null;
};

export type WaitSpan = SpanTiming & {
  kind: 'wait';
  reason: 'tool_confirmation' | 'custom_tool_result' | 'mixed';
  awaiting: string[];
  answered_by: string[];
};

export type RetryWaitSpan = SpanTiming & { kind: 'retry_wait' };

export interface ErrorMark {
  kind: 'error';
  id: string;
  at: string | null;
  error_type: string;
  message: string;
  retry_status: string;
}

export interface InterruptMark {
  kind: 'interrupt';
  id: string;
  at: string | null;
}

export type TraceSpan = ModelRequestSpan | ToolSpan | WaitSpan | RetryWaitSpan | ErrorMark | InterruptMark;

export interface TraceTurn {
  index: number;
  user_message_id: string;
  /** The API key that sent the user.message (domain/trace-actors.ts; null when unknown). */
  sent_by?: EventActor | null;
  text: string;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
  active_ms: number;
  stop_reason: StopReason | null;
  usage: TraceUsage;
  model_requests: number;
  tool_calls: number;
  errors: number;
  spans: TraceSpan[];
}

export interface TraceTotals extends TraceUsage {
  model_requests: number;
  tool_calls: number;
  errors: number;
  turns: number;
  active_seconds: number;
}

// A type alias (not an interface) so a trace is a plain record where one is expected (the API's nested sub-agents).
export type SessionTrace = {
  session_id: string;
  status: 'idle' | 'running' | 'rescheduling' | 'terminated';
  started_at: string | null;
  ended_at: string | null;
  totals: TraceTotals;
  turns: TraceTurn[];
  /** What happened between turns (e.g. a sandbox error while idle). */
  between_turns: TraceSpan[];
  event_count: number;
  /** The sandbox lifecycle from Temporal's history; set by the API, absent when history could not be read. */
  sandbox?: SandboxTrace;
};

export interface TraceOptions {
  /** "Now" for stretches still open (running sessions), in epoch ms. */
  nowMs?: number;
  /** Longest text kept in previews. */
  previewChars?: number;
}

const emptyUsage = (): TraceUsage => ({
  input_tokens: 0,
  output_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
});

const addInto = (target: TraceUsage, usage: TraceUsage): void => {
  target.input_tokens += usage.input_tokens;
  target.output_tokens += usage.output_tokens;
  target.cache_read_input_tokens += usage.cache_read_input_tokens;
  target.cache_creation_input_tokens += usage.cache_creation_input_tokens;
};

export const timeOf = (at: string | null): number | null => {
  if (at === null) return null;
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? null : ms;
};

export const between = (start: string | null, end: string | null): number | null => {
  const from = timeOf(start);
  const to = timeOf(end);
  return from === null || to === null ? null : Math.max(0, to - from);
};

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}…` : text);

const textOf = (content: readonly UserContent[] | undefined): string =>
  (content ?? []).map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('');

function closeSpan(span: SpanTiming, at: string | null): void {
  span.ended_at = at;
  span.duration_ms = between(span.started_at, at);
}

function writtenFile(name: string, input: Record<string, unknown>, max: number): WrittenFile | null {
  const path = typeof input.path === 'string' ? input.path : null;
  if (!path) return null;
  if (name === 'write' && typeof input.content === 'string') {
    return { path, operation: 'write', preview: cut(input.content, max), old_preview: null };
  }
  if (name === 'edit' && typeof input.new_string === 'string') {
    const old = typeof input.old_string === 'string' ? cut(input.old_string, max) : null;
    return { path, operation: 'edit', preview: cut(input.new_string, max), old_preview: old };
  }
  return null;
}

const statusEventTypes = new Set([
  'session.status_running',
  'session.status_idle',
  'session.status_rescheduled',
  'session.status_terminated',
]);

/** Builds the trace of one session from its events, in log order. */
export function buildSessionTrace(
  sessionId: string,
  events: readonly SessionEvent[],
  options: TraceOptions = {},
): SessionTrace {
  const previewChars = options.previewChars ?? 2_000;
  const nowIso = new Date(options.nowMs ?? Date.now()).toISOString();
  const turns: TraceTurn[] = [];
  const betweenTurns: TraceSpan[] = [];
  const tools = new Map<string, ToolSpan>();
  const modelRequests = new Map<string, ModelRequestSpan>();
  const totals: TraceTotals = {
    ...emptyUsage(),
    model_requests: 0,
    tool_calls: 0,
    errors: 0,
    turns: 0,
    active_seconds: 0,
  };
  let turn: TraceTurn | undefined;
  let status: SessionTrace['status'] = 'idle';
  let lastModelRequest: ModelRequestSpan | undefined;
  let failedAttempts = 0;
  let openWait: WaitSpan | undefined;
  let openRetry: RetryWaitSpan | undefined;
  let runningSince: { at: string | null; turn: TraceTurn | undefined } | undefined;
  let lastAt: string | null = null;

  const place = (span: TraceSpan): void => {
    if (turn && turn.ended_at === null) turn.spans.push(span);
    else betweenTurns.push(span);
  };

  const endRunningStretch = (at: string | null): void => {
    if (!runningSince) return;
    const ms = between(runningSince.at, at) ?? 0;
    totals.active_seconds += ms / 1000;
    if (runningSince.turn) runningSince.turn.active_ms += ms;
    runningSince = undefined;
  };

  const finishTurn = (at: string | null, stopReason: StopReason | null): void => {
    if (!turn || turn.ended_at !== null) return;
    turn.stop_reason = stopReason;
    turn.ended_at = at;
    turn.duration_ms = between(turn.started_at, at);
    for (const span of turn.spans) {
      if (span.kind === 'tool' && (span.status === 'running' || span.status === 'awaiting')) {
        span.status = 'cancelled';
        closeSpan(span, at);
      }
    }
  };

  for (const event of events) {
    const at: string | null = event.processed_at ?? lastAt;
    lastAt = at;
    // Status changes end the open running / waiting / rescheduling stretch, as /v1/usage reckons active time.
    if (statusEventTypes.has(event.type)) {
      endRunningStretch(at);
      if (openWait) closeSpan(openWait, at);
      if (openRetry) closeSpan(openRetry, at);
      openWait = undefined;
      openRetry = undefined;
    }
    switch (event.type) {
      case 'user.message': {
        finishTurn(at, null);
        turn = {
          index: turns.length + 1,
          user_message_id: event.id,
          text: cut(textOf(event.content), previewChars),
          started_at: at,
          ended_at: null,
          duration_ms: null,
          active_ms: 0,
          stop_reason: null,
          usage: emptyUsage(),
          model_requests: 0,
          tool_calls: 0,
          errors: 0,
          spans: [],
        };
        turns.push(turn);
        lastModelRequest = undefined;
        failedAttempts = 0;
        break;
      }
      case 'session.status_running':
        status = 'running';
        runningSince = { at, turn: turn && turn.ended_at === null ? turn : undefined };
        break;
      case 'session.status_rescheduled':
        status = 'rescheduling';
        openRetry = { kind: 'retry_wait', id: event.id, started_at: at, ended_at: null, duration_ms: null };
        place(openRetry);
        break;
      case 'session.status_idle': {
        status = 'idle';
        if (event.stop_reason.type === 'requires_action') {
          const awaiting = event.stop_reason.event_ids;
          const kinds = new Set(awaiting.map((id) => (tools.get(id)?.tool_kind === 'custom_tool' ? 'custom' : 'ask')));
          const reason = kinds.size > 1 ? 'mixed' : kinds.has('custom') ? 'custom_tool_result' : 'tool_confirmation';
          openWait = {
            kind: 'wait',
            id: event.id,
            reason,
            awaiting: [...awaiting],
            answered_by: [],
            started_at: at,
            ended_at: null,
            duration_ms: null,
          };
          place(openWait);
          for (const id of awaiting) {
            const tool = tools.get(id);
            if (tool && tool.status === 'running') tool.status = 'awaiting';
          }
        } else {
          finishTurn(at, event.stop_reason);
        }
        break;
      }
      case 'session.status_terminated':
        status = 'terminated';
        finishTurn(at, null);
        break;
      case 'span.model_request_start': {
        const span: ModelRequestSpan = {
          kind: 'model_request',
          id: event.id,
          end_event_id: null,
          model: event.model ?? null,
          summary: event.summary ?? null,
          attempt: failedAttempts + 1,
          is_error: null,
          usage: emptyUsage(),
          tool_use_ids: [],
          started_at: at,
          ended_at: null,
          duration_ms: null,
        };
        modelRequests.set(event.id, span);
        lastModelRequest = span;
        place(span);
        break;
      }
      case 'span.model_request_end': {
        const span = modelRequests.get(event.model_request_start_id);
        if (!span) break;
        closeSpan(span, at);
        span.end_event_id = event.id;
        span.is_error = event.is_error;
        span.usage = { ...emptyUsage(), ...event.model_usage };
        failedAttempts = event.is_error ? failedAttempts + 1 : 0;
        addInto(totals, span.usage);
        totals.model_requests++;
        if (turn && turn.ended_at === null) {
          addInto(turn.usage, span.usage);
          turn.model_requests++;
        }
        break;
      }
      case 'agent.tool_use':
      case 'agent.custom_tool_use': {
        const custom = event.type === 'agent.custom_tool_use';
        const span: ToolSpan = {
          kind: 'tool',
          id: event.id,
          name: event.name,
          tool_kind: custom ? 'custom_tool' : 'tool',
          permission: custom ? null : (event.evaluated_permission ?? null),
          status: custom || event.evaluated_permission === 'ask' ? 'awaiting' : 'running',
          input: event.input,
          output_preview: null,
          output_chars: 0,
          is_error: null,
          model_request_id: lastModelRequest?.id ?? null,
          confirmation: null,
          custom_result_event_id: null,
          wait_ms: null,
          file: custom ? null : writtenFile(event.name, event.input, previewChars),
          sub_agent: null,
          started_at: at,
          ended_at: null,
          duration_ms: null,
        };
        lastModelRequest?.tool_use_ids.push(event.id);
        tools.set(event.id, span);
        totals.tool_calls++;
        if (turn && turn.ended_at === null) turn.tool_calls++;
        place(span);
        break;
      }
      case 'user.tool_confirmation': {
        const span = tools.get(event.tool_use_id);
        openWait?.answered_by.push(event.id);
        if (!span) break;
        span.confirmation = {
          event_id: event.id,
          result: event.result,
          deny_message: event.deny_message ?? null,
          answered_at: at,
          by: 'user',
        };
        span.wait_ms = between(span.started_at, at);
        span.status = event.result === 'allow' ? 'running' : 'denied';
        break;
      }
      case 'user.custom_tool_result': {
        const span = tools.get(event.custom_tool_use_id);
        openWait?.answered_by.push(event.id);
        if (!span) break;
        const text = textOf(event.content);
        span.custom_result_event_id = event.id;
        span.output_preview = cut(text, previewChars);
        span.output_chars = text.length;
        span.is_error = event.is_error ?? false;
        span.status = span.is_error ? 'error' : 'ok';
        span.wait_ms = between(span.started_at, at);
        closeSpan(span, at);
        break;
      }
      case 'agent.tool_result': {
        const span = tools.get(event.tool_use_id);
        if (!span) break;
        const text = (event.content ?? []).map((block) => block.text).join('');
        span.output_preview = cut(text, previewChars);
        span.output_chars = text.length;
        span.is_error = event.is_error ?? false;
        if (span.status !== 'denied') span.status = span.is_error ? 'error' : 'ok';
        closeSpan(span, at);
        break;
      }
      case 'session.error': {
        const mark: ErrorMark = {
          kind: 'error',
          id: event.id,
          at,
          error_type: event.error.type,
          message: event.error.message,
          retry_status: event.error.retry_status.type,
        };
        totals.errors++;
        if (turn && turn.ended_at === null) turn.errors++;
        place(mark);
        break;
      }
      case 'user.interrupt':
        place({ kind: 'interrupt', id: event.id, at });
        break;
      default:
        break;
    }
  }

  // Open stretches run until now, as /v1/usage counts a session still running.
  if (runningSince) endRunningStretch(nowIso);
  totals.turns = turns.length;
  return {
    session_id: sessionId,
    status,
    started_at: events[0]?.processed_at ?? null,
    ended_at: lastAt,
    totals,
    turns,
    between_turns: betweenTurns,
    event_count: events.length,
  };
}

/** The first user message of a session: how a sub-agent's session is matched to the tool call that started it. */
export function firstUserText(events: readonly SessionEvent[]): string | undefined {
  const first = events.find((event) => event.type === 'user.message');
  return first?.type === 'user.message' ? textOf(first.content) : undefined;
}

/**
 * Attaches sub-agent sessions to the tool spans that started them: a sub-agent's first user message is the tool's
 * `prompt` input (or its JSON). Returns the children no tool span claimed.
 */
export function attachSubAgents(
  trace: SessionTrace,
  children: readonly { prompt: string | undefined; trace: SessionTrace }[],
): SessionTrace[] {
  const unclaimed = [...children];
  const spans = [...trace.turns.flatMap((turn) => turn.spans), ...trace.between_turns];
  for (const span of spans) {
    if (span.kind !== 'tool' || span.tool_kind !== 'tool') continue;
    const prompt = typeof span.input.prompt === 'string' ? span.input.prompt : JSON.stringify(span.input);
    const index = unclaimed.findIndex((child) => child.prompt === prompt);
    if (index < 0) continue;
    span.sub_agent = unclaimed[index]?.trace ?? null;
    unclaimed.splice(index, 1);
  }
  return unclaimed.map((child) => child.trace);
}
