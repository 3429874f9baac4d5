// A session's trace, derived from its event log: turns (a user.message to the idle that ends it), model requests
// (span.model_request_start/end pairs), tool calls grouped by tool_use id (with the confirmation that let them run),
// waits on the client (requires_action idles until the answer), retry waits, errors and interrupts. Pure, so the API,
// the web page and the tests agree on one reading of the log; active time is computed the way /v1/usage computes it.
// Each event kind has its reducer (turns.ts, model-requests.ts, tools.ts, marks.ts); this file runs them in log order.
// The sandbox lifecycle is not in the log: the API reads it from Temporal's history (sandbox.ts builds its spans).
import type { SessionEvent, SessionEventType } from '../events.ts';
import { markReducers } from './marks.ts';
import { modelRequestReducers } from './model-requests.ts';
import type { Reducer, Reducers } from './reducer.ts';
import type { SessionTrace } from './schema.ts';
import { TraceState } from './state.ts';
import { toolReducers } from './tools.ts';
import { turnReducers } from './turns.ts';

export interface TraceOptions {
  /** "Now" for stretches still open (running sessions), in epoch ms. */
  nowMs?: number;
  /** Longest text kept in previews. */
  previewChars?: number;
}

const reducers: Reducers = { ...turnReducers, ...modelRequestReducers, ...toolReducers, ...markReducers };

const statusEventTypes = new Set<SessionEventType>([
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
  const state = new TraceState(options.previewChars ?? 2_000);
  let lastAt: string | null = null;
  for (const event of events) {
    const at: string | null = event.processed_at ?? lastAt;
    lastAt = at;
    // Status changes end the open running / waiting / rescheduling stretch, as /v1/usage reckons active time.
    if (statusEventTypes.has(event.type)) state.endStretches(at);
    const reduce = reducers[event.type] as Reducer<typeof event.type> | undefined;
    reduce?.(state, event, at);
  }
  // Open stretches run until now, as /v1/usage counts a session still running.
  if (state.runningSince) state.endRunningStretch(new Date(options.nowMs ?? Date.now()).toISOString());
  state.totals.turns = state.turns.length;
  return {
    session_id: sessionId,
    status: state.status,
    started_at: events[0]?.processed_at ?? null,
    ended_at: lastAt,
    totals: state.totals,
    turns: state.turns,
    between_turns: state.betweenTurns,
    event_count: events.length,
  };
}
