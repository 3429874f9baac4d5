// Point marks: a session.error (counted against the open turn) and a user.interrupt.
import type { Reducers } from './reducer.ts';

export const markReducers: Reducers = {
  'session.error': (state, event, at) => {
    state.totals.errors++;
    const turn = state.openTurn;
    if (turn) turn.errors++;
    state.place({
      kind: 'error',
      id: event.id,
      at,
      error_type: event.error.type,
      message: event.error.message,
      retry_status: event.error.retry_status.type,
    });
  },

  'user.interrupt': (state, event, at) => {
    state.place({ kind: 'interrupt', id: event.id, at });
  },
};
