// The state a trace is built in, event by event, and the moves every reducer shares: where a span goes (the open
// turn, else between turns), closing a span, ending a running stretch (active time as /v1/usage counts it), ending
// a turn (its still-open tools are cancelled).
import type { StopReason } from '../events.ts';
import type {
  ModelRequestSpan,
  RetryWaitSpan,
  SessionTrace,
  ToolSpan,
  TraceSpan,
  TraceTotals,
  TraceTurn,
  TraceUsage,
  WaitSpan,
} from './schema.ts';
import { between } from './time-and-text.ts';

export const emptyTraceUsage = (): TraceUsage => ({
  input_tokens: 0,
  output_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
});

export const addUsage = (target: TraceUsage, usage: TraceUsage): void => {
  target.input_tokens += usage.input_tokens;
  target.output_tokens += usage.output_tokens;
  target.cache_read_input_tokens += usage.cache_read_input_tokens;
  target.cache_creation_input_tokens += usage.cache_creation_input_tokens;
};

export function closeSpan(
  span: { started_at: string | null; ended_at: string | null; duration_ms: number | null },
  at: string | null,
): void {
  span.ended_at = at;
  span.duration_ms = between(span.started_at, at);
}

export class TraceState {
  readonly turns: TraceTurn[] = [];
  readonly betweenTurns: TraceSpan[] = [];
  readonly tools = new Map<string, ToolSpan>();
  readonly modelRequests = new Map<string, ModelRequestSpan>();
  readonly totals: TraceTotals = {
    ...emptyTraceUsage(),
    model_requests: 0,
    tool_calls: 0,
    errors: 0,
    turns: 0,
    active_seconds: 0,
  };
  status: SessionTrace['status'] = 'idle';
  /** The latest turn (ended or not). */
  turn: TraceTurn | undefined;
  lastModelRequest: ModelRequestSpan | undefined;
  /** Failed model attempts since the last success: the next request's attempt number. */
  failedAttempts = 0;
  openWait: WaitSpan | undefined;
  openRetry: RetryWaitSpan | undefined;
  runningSince: { at: string | null; turn: TraceTurn | undefined } | undefined;

  readonly previewChars: number;

  constructor(previewChars: number) {
    this.previewChars = previewChars;
  }

  /** The turn still running, if any: what its counters and spans belong to. */
  get openTurn(): TraceTurn | undefined {
    return this.turn && this.turn.ended_at === null ? this.turn : undefined;
  }

  place(span: TraceSpan): void {
    (this.openTurn?.spans ?? this.betweenTurns).push(span);
  }

  endRunningStretch(at: string | null): void {
    if (!this.runningSince) return;
    const ms = between(this.runningSince.at, at) ?? 0;
    this.totals.active_seconds += ms / 1000;
    if (this.runningSince.turn) this.runningSince.turn.active_ms += ms;
    this.runningSince = undefined;
  }

  /** A status change ends the open running / waiting / rescheduling stretch. */
  endStretches(at: string | null): void {
    this.endRunningStretch(at);
    if (this.openWait) closeSpan(this.openWait, at);
    if (this.openRetry) closeSpan(this.openRetry, at);
    this.openWait = undefined;
    this.openRetry = undefined;
  }

  finishTurn(at: string | null, stopReason: StopReason | null): void {
    const turn = this.openTurn;
    if (!turn) return;
    turn.stop_reason = stopReason;
    closeSpan(turn, at);
    for (const span of turn.spans) {
      if (span.kind === 'tool' && (span.status === 'running' || span.status === 'awaiting')) {
        span.status = 'cancelled';
        closeSpan(span, at);
      }
    }
  }
}
