// Reads a session's journaled events: for the model transcript, the API's listing and the SSE stream.
import type pg from 'pg';
import type { JournaledEvent, SessionEvent } from '../../domain/events.ts';

export async function readEvents(
  pool: pg.Pool,
  sessionId: string,
  options: { afterSeq?: number; throughSeq?: number; limit?: number; order?: 'asc' | 'desc' } = {},
): Promise<JournaledEvent[]> {
  const order = options.order === 'desc' ? 'desc' : 'asc';
  const { rows } = await pool.query<{ seq: string; body: SessionEvent }>(
    `select seq, body from session_events
     where session_id = $1 and seq > $2 and seq <= $3
     order by seq ${order} limit $4`,
    [sessionId, options.afterSeq ?? 0, options.throughSeq ?? Number.MAX_SAFE_INTEGER, options.limit ?? 1_000_000],
  );
  return rows.map((row) => ({ seq: Number(row.seq), event: row.body }));
}
