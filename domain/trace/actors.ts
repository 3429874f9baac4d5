// Who did what in a trace: the API key behind each user event (recorded by the API when it accepted the event) is
// attached to the turn it started ("sent by") and to the confirmation that decided a tool ("approved by").
import type { EventActor, SessionTrace, TraceSpan } from './schema.ts';

/** Fills `sent_by` and `confirmation.approved_by` in place from the event → key map; unknown events get null. */
export function attributeActors(trace: SessionTrace, actors: ReadonlyMap<string, EventActor>): void {
  const mark = (spans: TraceSpan[]) => {
    for (const span of spans) {
      if (span.kind === 'tool' && span.confirmation) {
        span.confirmation.approved_by = actors.get(span.confirmation.event_id) ?? null;
      }
    }
  };
  for (const turn of trace.turns) {
    turn.sent_by = actors.get(turn.user_message_id) ?? null;
    mark(turn.spans);
  }
  mark(trace.between_turns);
}
