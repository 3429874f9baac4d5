// The event journal: the session workflow writes each event here, in order, through a local activity. Inserts are
// idempotent by event id, so a workflow task retried after a crash writes nothing twice. A NOTIFY wakes live readers.
import type pg from 'pg';
import type { JournalBatch } from '../../domain/contracts/journal-batch.ts';
import { sessionEventsChannel, sessionEventsNotice } from '../../db/repositories/session-events.ts';

export function createJournalActivities(pool: pg.Pool) {
  return {
    /** Writes events (already ordered by seq) and notifies listeners with `<sessionId> <lastSeq>`. */
    async appendEvents(input: JournalBatch): Promise<void> {
      await appendJournalEvents(pool, input);
    },
  };
}

/** The journal write itself, also made by the model activity for events handed to it (workflows/event-journal.ts). */
export async function appendJournalEvents(pool: pg.Pool, input: JournalBatch): Promise<void> {
  if (input.events.length === 0) return;
  const lastSeq = input.events.at(-1)?.seq ?? 0;
  // One statement, so one round trip: its implicit transaction makes insert and notify atomic (a NOTIFY is delivered
  // at commit, after the rows are visible).
  await pool.query(
    `with inserted as (
       insert into session_events (session_id, seq, id, type, body, processed_at)
       select $1, e.seq, e.id, e.type, e.body, e.processed_at
       from jsonb_to_recordset($2::jsonb) as e(seq bigint, id text, type text, body jsonb, processed_at timestamptz)
       on conflict do nothing
       returning 1
     )
     select pg_notify($3, $4) from (select count(*) from inserted) as written`,
    [
      input.sessionId,
      JSON.stringify(
        input.events.map(({ seq, event }) => ({
          seq,
          id: event.id,
          type: event.type,
          body: event,
          processed_at: event.processed_at,
        })),
      ),
      sessionEventsChannel,
      sessionEventsNotice(input.sessionId, lastSeq),
    ],
  );
}

export type JournalActivities = ReturnType<typeof createJournalActivities>;
