// The event journal's local activity: the session workflow writes each batch of events here, in order (see
// workflows/event-journal.ts). The write itself, idempotent by event id and announced by NOTIFY, is the event log's
// (db/repositories/session-events.ts); the model and sandbox activities make the same write for batches handed to them.
import type pg from 'pg';
import { appendSessionEvents } from '../../db/repositories/session-events.ts';
import type { JournalBatch } from '../../domain/contracts/journal-batch.ts';

export function createJournalActivities(pool: pg.Pool) {
  return {
    /** Writes events (already ordered by seq) and notifies listeners. */
    async appendEvents(input: JournalBatch): Promise<void> {
      await appendSessionEvents(pool, input);
    },
  };
}

export type JournalActivities = ReturnType<typeof createJournalActivities>;
