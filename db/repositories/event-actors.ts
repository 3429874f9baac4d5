// The audit trail of user actions: which API key sent each user event. Written by the API before it hands the events
// to the session (their ids are assigned there), read by the trace. Rows outlive the session.
import type pg from 'pg';
import type { EventActor } from '../../domain/trace/schema.ts';

export async function recordEventActors(
  pool: pg.Pool,
  entry: { tenantId: string; sessionId: string; apiKeyId: string; eventIds: string[] },
): Promise<void> {
  if (entry.eventIds.length === 0) return;
  await pool.query(
    `insert into event_actors (event_id, session_id, tenant_id, api_key_id)
     select unnest($1::text[]), $2, $3, $4 on conflict do nothing`,
    [entry.eventIds, entry.sessionId, entry.tenantId, entry.apiKeyId],
  );
}

/** Event id → the key that sent it, for one session. */
export async function eventActorsOf(pool: pg.Pool, sessionId: string): Promise<Map<string, EventActor>> {
  const { rows } = await pool.query<{ event_id: string; api_key_id: string; name: string | null }>(
    `select a.event_id, a.api_key_id, k.name from event_actors a left join api_keys k on k.id = a.api_key_id
     where a.session_id = $1`,
    [sessionId],
  );
  return new Map(rows.map((row) => [row.event_id, { api_key_id: row.api_key_id, api_key_name: row.name ?? '' }]));
}
