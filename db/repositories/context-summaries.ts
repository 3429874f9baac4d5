// Context summaries (compaction): the one owner of session_context_summaries. Written by the summariser activity
// (idempotent by id, so a retried activity keeps its first summary), read by the model activity.
import type { Queryable } from '../queryable.ts';

/** Stores a summary unless one with this id exists; returns the stored text (the first writer's). */
export async function saveContextSummary(
  db: Queryable,
  summary: { id: string; sessionId: string; afterSeq: number; text: string },
): Promise<string> {
  await db.query(
    `insert into session_context_summaries (id, session_id, after_seq, summary) values ($1, $2, $3, $4)
     on conflict (id) do nothing`,
    [summary.id, summary.sessionId, summary.afterSeq, summary.text],
  );
  return (await readContextSummary(db, summary.id)) ?? summary.text;
}

export async function readContextSummary(db: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ summary: string }>('select summary from session_context_summaries where id = $1', [
    id,
  ]);
  return rows[0]?.summary;
}

export async function deleteContextSummaries(db: Queryable, sessionId: string): Promise<void> {
  await db.query('delete from session_context_summaries where session_id = $1', [sessionId]);
}
