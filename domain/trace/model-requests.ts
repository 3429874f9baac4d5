// Model requests: span.model_request_start opens one (its attempt number counts the failures before it), the
// matching span.model_request_end closes it with its usage, added to the turn's and the session's totals.
import type { Reducers } from './reducer.ts';
import type { ModelRequestSpan } from './schema.ts';
import { addUsage, closeSpan, emptyTraceUsage } from './state.ts';

export const modelRequestReducers: Reducers = {
  'span.model_request_start': (state, event, at) => {
    const span: ModelRequestSpan = {
      kind: 'model_request',
      id: event.id,
      end_event_id: null,
      model: event.model ?? null,
      summary: event.summary ?? null,
      attempt: state.failedAttempts + 1,
      is_error: null,
      usage: emptyTraceUsage(),
      tool_use_ids: [],
      started_at: at,
      ended_at: null,
      duration_ms: null,
    };
    state.modelRequests.set(event.id, span);
    state.lastModelRequest = span;
    state.place(span);
  },

  'span.model_request_end': (state, event, at) => {
    const span = state.modelRequests.get(event.model_request_start_id);
    if (!span) return;
    closeSpan(span, at);
    span.end_event_id = event.id;
    span.is_error = event.is_error;
    span.usage = { ...emptyTraceUsage(), ...event.model_usage };
    state.failedAttempts = event.is_error ? state.failedAttempts + 1 : 0;
    addUsage(state.totals, span.usage);
    state.totals.model_requests++;
    const turn = state.openTurn;
    if (turn) {
      addUsage(turn.usage, span.usage);
      turn.model_requests++;
    }
  },
};
