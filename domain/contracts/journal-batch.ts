// The one shape in which events reach the journal, whoever writes them: the journal's local activity, and the model
// and sandbox activities that write a batch handed to them before they run (workflows/event-journal.ts).
import type { JournaledEvent } from '../events.ts';

/** A session's events in seq order, written idempotently (by event id) and announced on the events channel. */
export interface JournalBatch {
  sessionId: string;
  events: JournaledEvent[];
}
