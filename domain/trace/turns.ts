// Turns and the session's status: a user.message opens a turn, an idle that does not wait on the client (or the
// session's end) closes it; running stretches count as active time; a requires_action idle opens a wait on the
// client; a reschedule opens a retry wait.
import type { Reducers } from './reducer.ts';
import { emptyTraceUsage } from './state.ts';
import { cut, textOf } from './time-and-text.ts';

export const turnReducers: Reducers = {
  'user.message': (state, event, at) => {
    state.finishTurn(at, null);
    state.turn = {
      index: state.turns.length + 1,
      user_message_id: event.id,
      text: cut(textOf(event.content), state.previewChars),
      started_at: at,
      ended_at: null,
      duration_ms: null,
      active_ms: 0,
      stop_reason: null,
      usage: emptyTraceUsage(),
      model_requests: 0,
      tool_calls: 0,
      errors: 0,
      spans: [],
    };
    state.turns.push(state.turn);
    state.lastModelRequest = undefined;
    state.failedAttempts = 0;
  },

  'session.status_running': (state, _event, at) => {
    state.status = 'running';
    state.runningSince = { at, turn: state.openTurn };
  },

  'session.status_rescheduled': (state, event, at) => {
    state.status = 'rescheduling';
    state.openRetry = { kind: 'retry_wait', id: event.id, started_at: at, ended_at: null, duration_ms: null };
    state.place(state.openRetry);
  },

  'session.status_idle': (state, event, at) => {
    state.status = 'idle';
    if (event.stop_reason.type !== 'requires_action') {
      state.finishTurn(at, event.stop_reason);
      return;
    }
    const awaiting = event.stop_reason.event_ids;
    const kinds = new Set(awaiting.map((id) => (state.tools.get(id)?.tool_kind === 'custom_tool' ? 'custom' : 'ask')));
    state.openWait = {
      kind: 'wait',
      id: event.id,
      reason: kinds.size > 1 ? 'mixed' : kinds.has('custom') ? 'custom_tool_result' : 'tool_confirmation',
      awaiting: [...awaiting],
      answered_by: [],
      started_at: at,
      ended_at: null,
      duration_ms: null,
    };
    state.place(state.openWait);
    for (const id of awaiting) {
      const tool = state.tools.get(id);
      if (tool && tool.status === 'running') tool.status = 'awaiting';
    }
  },

  'session.status_terminated': (state, _event, at) => {
    state.status = 'terminated';
    state.finishTurn(at, null);
  },
};
