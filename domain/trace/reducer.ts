// A reducer folds one kind of event into the trace state; `at` is the event's processed_at (or the last known time).
import type { SessionEvent, SessionEventType } from '../events.ts';
import type { TraceState } from './state.ts';

export type EventOf<Type extends SessionEventType> = Extract<SessionEvent, { type: Type }>;

export type Reducer<Type extends SessionEventType> = (
  state: TraceState,
  event: EventOf<Type>,
  at: string | null,
) => void;

/** Reducers by event type; event types without one leave the trace as it is. */
export type Reducers = { [Type in SessionEventType]?: Reducer<Type> };
