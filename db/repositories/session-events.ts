// The session event log: the one owner of its table. Writers (the journal's local activity, and the model and
// sandbox activities a batch is handed to) append through appendSessionEvents; readers (the model transcript, the
// API's listing, SSE stream, usage, metrics, trace) read through the functions here; the API deletes here. Writes and
// live deltas are announced by NOTIFY to the API's LISTEN (api/event-notifier.ts).
//
// Two orders: `seq` is the workflow's numbering (what the transcript, compaction and outcomes speak), `position` the
// log's, given here as rows are written (what listing, the stream's ids and statuses follow). They agree until a
// Temporal reset: the reset run decides its events again from an earlier seq, with fresh ids, and they are appended
// after the old run's (migration 1700000000261); the transcript at a seq is then the newest row of each seq.
import type pg from 'pg';
import type { Queryable } from '../queryable.ts';
import { withTransaction } from '../transaction.ts';
import type { DeltaMessage } from '../../domain/contracts/delta-message.ts';
import type { JournalBatch } from '../../domain/contracts/journal-batch.ts';
import type { JournaledEvent, SessionEvent } from '../../domain/events.ts';
import { sessionStatusWebhooksSql } from './webhooks.ts';
import { decodeCursor, encodeCursor, type Page } from './pagination.ts';

/** Journal writes; payload `<sessionId> <lastSeq>`. Readers re-read after their last position: a lost notice loses nothing. */
export const sessionEventsChannel = 'session_events';
/** Live token deltas; payload a DeltaMessage as JSON (domain/contracts/delta-message.ts). */
export const sessionDeltasChannel = 'session_deltas';

const sessionEventsNotice = (sessionId: string, lastSeq: number): string => `${sessionId} ${lastSeq}`;

/** The session a notification on sessionEventsChannel is about. */
export const sessionOfEventsNotice = (payload: string): string => payload.split(' ')[0] ?? '';

/** An event as the log holds it: its place in the session's log (the stream's event id, the list's cursor). */
export interface LoggedEvent {
  position: number;
  event: SessionEvent;
}

/**
 * Writes a batch (ordered by seq) at the end of the log and notifies listeners with `<sessionId> <lastSeq>`. Idempotent
 * by (seq, event id), so a retried workflow task or activity writes nothing twice, while a reset run's events (same
 * seqs, fresh ids) are appended. A concurrent writer of the same session (never the journal's own, which writes one
 * batch at a time) fails on the position key and is retried by Temporal, so positions follow commit order.
 */
export async function appendSessionEvents(db: Queryable, batch: JournalBatch): Promise<void> {
  if (batch.events.length === 0) return;
  const lastSeq = batch.events.at(-1)?.seq ?? 0;
  // One statement, so one round trip: its implicit transaction makes insert, webhook events (for status events; see
  // sessionStatusWebhooksSql) and notify atomic (a NOTIFY is delivered at commit, after the rows are visible).
  await db.query(
    `with fresh as (
       select e.seq, e.id, e.type, e.body, e.processed_at
       from jsonb_to_recordset($2::jsonb) as e(seq bigint, id text, type text, body jsonb, processed_at timestamptz)
       where not exists (select 1 from session_events x where x.session_id = $1 and x.seq = e.seq and x.id = e.id)
     ), inserted as (
       insert into session_events (session_id, position, seq, id, type, body, processed_at)
       select $1, coalesce((select max(position) from session_events where session_id = $1), 0)
           + row_number() over (order by f.seq), f.seq, f.id, f.type, f.body, f.processed_at
       from fresh f order by f.seq
       on conflict (session_id, seq, id) do nothing
       returning seq, id, type, body, processed_at
     ), webhooks as (${sessionStatusWebhooksSql('inserted', '$1')})
     select pg_notify($3, $4) from (select count(*) from inserted) as written`,
    [batch.sessionId, batchRecords(batch), sessionEventsChannel, sessionEventsNotice(batch.sessionId, lastSeq)],
  );
}

/** A batch as the JSON array of records the statements here read with jsonb_to_recordset. */
const batchRecords = (batch: JournalBatch): string =>
  JSON.stringify(
    batch.events.map(({ seq, event }) => ({
      seq,
      id: event.id,
      type: event.type,
      body: event,
      processed_at: event.processed_at,
    })),
  );

/**
 * The events readEvents would return once `unwritten` is appended (its events are the session's last ones, from
 * its first seq on, as the journal hands them off), without waiting for that append: the rows before the batch,
 * then the batch's own events as jsonb, so each reads back exactly as it will be stored. The model activity runs
 * this beside the append, saving a round trip per call. Of a seq written more than once (runs before and after a
 * Temporal reset) the newest row counts, as in readEvents.
 */
export async function readEventsWithBatch(
  db: Queryable,
  unwritten: JournalBatch,
  options: { afterSeq?: number; throughSeq?: number } = {},
): Promise<JournaledEvent[]> {
  const first = unwritten.events[0]?.seq;
  if (first === undefined) return readEvents(db, unwritten.sessionId, options);
  const { rows } = await db.query<{ seq: string; body: SessionEvent }>(
    `select seq, body from (
       select distinct on (seq) seq, body from session_events
       where session_id = $1 and seq > $2 and seq < $3
       order by seq, position desc
     ) newest
     union all
     select e.seq, e.body from jsonb_to_recordset($4::jsonb) as e(seq bigint, body jsonb)
     where e.seq > $2 and e.seq <= $5
     order by seq`,
    [
      unwritten.sessionId,
      options.afterSeq ?? 0,
      first,
      batchRecords(unwritten),
      options.throughSeq ?? Number.MAX_SAFE_INTEGER,
    ],
  );
  return rows.map((row) => ({ seq: Number(row.seq), event: row.body }));
}

/** Sends one live delta to the streams of its session; never stored. */
export async function publishDelta(db: Queryable, message: DeltaMessage): Promise<void> {
  await db.query('select pg_notify($1, $2)', [sessionDeltasChannel, JSON.stringify(message)]);
}

/**
 * A session's events in seq order (or reversed), optionally after / through a seq: the model transcript, tests. Of a
 * seq written more than once (by runs before and after a Temporal reset) the newest row counts: what the current run
 * decided, as each run writes every seq it reaches before it reads.
 */
export async function readEvents(
  db: Queryable,
  sessionId: string,
  options: { afterSeq?: number; throughSeq?: number; limit?: number; order?: 'asc' | 'desc' } = {},
): Promise<JournaledEvent[]> {
  const order = options.order === 'desc' ? 'desc' : 'asc';
  const { rows } = await db.query<{ seq: string; body: SessionEvent }>(
    `select seq, body from (
       select distinct on (seq) seq, body from session_events
       where session_id = $1 and seq > $2 and seq <= $3
       order by seq, position desc
     ) newest
     order by seq ${order} limit $4`,
    [sessionId, options.afterSeq ?? 0, options.throughSeq ?? Number.MAX_SAFE_INTEGER, options.limit ?? 1_000_000],
  );
  return rows.map((row) => ({ seq: Number(row.seq), event: row.body }));
}

/** A session's events of the given types, in order (the outcomes of a session, say). */
export async function readEventsOfTypes(db: Queryable, sessionId: string, types: string[]): Promise<SessionEvent[]> {
  const { rows } = await db.query<{ body: SessionEvent }>(
    'select body from session_events where session_id = $1 and type = any($2) order by position',
    [sessionId, types],
  );
  return rows.map((row) => row.body);
}

/** The session's last event of a type, if any. */
export async function lastEventOfType(
  db: Queryable,
  sessionId: string,
  type: string,
): Promise<SessionEvent | undefined> {
  const { rows } = await db.query<{ body: SessionEvent }>(
    'select body from session_events where session_id = $1 and type = $2 order by position desc limit 1',
    [sessionId, type],
  );
  return rows[0]?.body;
}

/** The position of the session's last logged event (0 when there is none): where a fresh stream starts. */
export async function lastEventPosition(db: Queryable, sessionId: string): Promise<number> {
  const { rows } = await db.query<{ position: string | null }>(
    'select max(position) as position from session_events where session_id = $1',
    [sessionId],
  );
  return Number(rows[0]?.position ?? 0);
}

/** Events after a position, in the log's order (every row, a reset's included): what the stream sends next. */
export async function readEventsAfter(
  db: Queryable,
  sessionId: string,
  afterPosition: number,
  limit: number,
): Promise<LoggedEvent[]> {
  const { rows } = await db.query<{ position: string; body: SessionEvent }>(
    `select position, body from session_events where session_id = $1 and position > $2 order by position limit $3`,
    [sessionId, afterPosition, limit],
  );
  return rows.map((row) => ({ position: Number(row.position), event: row.body }));
}

export async function listEventsPage(
  pool: pg.Pool,
  sessionId: string,
  options: { limit: number; page?: string; order: 'asc' | 'desc'; types?: string[] },
): Promise<Page<SessionEvent>> {
  const after = options.page ? decodeCursor(options.page) : undefined;
  const comparison = options.order === 'asc' ? '>' : '<';
  const { rows } = await pool.query<{ position: string; body: SessionEvent }>(
    `select position, body from session_events
     where session_id = $1 and ($2::bigint is null or position ${comparison} $2)
       and ($3::text[] is null or type = any($3)) and type <> 'session.deleted'
     order by position ${options.order} limit $4`,
    [sessionId, after ?? null, options.types?.length ? options.types : null, options.limit + 1],
  );
  const kept = rows.slice(0, options.limit);
  const last = kept.at(-1);
  return {
    data: kept.map((row) => row.body),
    next_page: rows.length > options.limit && last ? encodeCursor(last.position) : null,
  };
}

/** SQL for the session's status as its journal last announced it (no status event yet = idle). */
export const journalStatusSql = (sessionColumn: string): string => `coalesce((
  select case e.type when 'session.status_running' then 'running' when 'session.status_idle' then 'idle'
    when 'session.status_rescheduled' then 'rescheduling' else 'terminated' end
  from session_events e
  where e.session_id = ${sessionColumn}
    and e.type in ('session.status_running', 'session.status_idle', 'session.status_rescheduled', 'session.status_terminated')
  order by e.position desc limit 1), 'idle')`;

export interface UsageTotals {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  model_requests: number;
  active_seconds: number;
}

export const emptyTotals = (): UsageTotals => ({
  input_tokens: 0,
  output_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
  model_requests: 0,
  active_seconds: 0,
});

/** Token usage (from `span.model_request_end` and the grader's `span.outcome_evaluation_end`) and active time (running → next status) per session. */
export async function usageBySession(pool: pg.Pool, sessionIds: string[]): Promise<Map<string, UsageTotals>> {
  const totals = new Map<string, UsageTotals>();
  if (sessionIds.length === 0) return totals;
  const [tokens, active] = await Promise.all([
    // A grader's call (`span.outcome_evaluation_end.usage`) counts in the tokens as the workflow's live view adds
    // it, but not as one of the agent's model requests.
    pool.query<{ session_id: string; i: string; o: string; r: string; c: string; n: string }>(
      `select session_id,
         sum((u->>'input_tokens')::bigint) as i,
         sum((u->>'output_tokens')::bigint) as o,
         sum((u->>'cache_read_input_tokens')::bigint) as r,
         sum((u->>'cache_creation_input_tokens')::bigint) as c,
         count(*) filter (where type = 'span.model_request_end') as n
       from (
         select session_id, type,
           case when type = 'span.model_request_end' then body->'model_usage' else body->'usage' end as u
         from session_events where session_id = any($1)
           and type in ('span.model_request_end', 'span.outcome_evaluation_end')
       ) spans group by session_id`,
      [sessionIds],
    ),
    pool.query<{ session_id: string; seconds: number }>(
      `select session_id, sum(extract(epoch from coalesce(next_at, now()) - processed_at))::float8 as seconds
       from (
         select session_id, type, processed_at,
           lead(processed_at) over (partition by session_id order by position) as next_at
         from session_events
         where session_id = any($1) and type in ('session.status_running', 'session.status_idle',
           'session.status_rescheduled', 'session.status_terminated')
       ) s where type = 'session.status_running' group by session_id`,
      [sessionIds],
    ),
  ]);
  for (const row of tokens.rows) {
    totals.set(row.session_id, {
      ...emptyTotals(),
      input_tokens: Number(row.i ?? 0),
      output_tokens: Number(row.o ?? 0),
      cache_read_input_tokens: Number(row.r ?? 0),
      cache_creation_input_tokens: Number(row.c ?? 0),
      model_requests: Number(row.n),
    });
  }
  for (const row of active.rows) {
    const entry = totals.get(row.session_id) ?? emptyTotals();
    entry.active_seconds = Math.max(0, Number(row.seconds ?? 0));
    totals.set(row.session_id, entry);
  }
  return totals;
}

/** Token usage over every session (from `span.model_request_end`): the API's metrics. */
export async function modelUsageTotals(db: Queryable): Promise<Omit<UsageTotals, 'active_seconds'>> {
  const { rows } = await db.query<{
    i: string | null;
    o: string | null;
    r: string | null;
    c: string | null;
    n: string;
  }>(
    `select sum((body->'model_usage'->>'input_tokens')::bigint) as i,
       sum((body->'model_usage'->>'output_tokens')::bigint) as o,
       sum((body->'model_usage'->>'cache_read_input_tokens')::bigint) as r,
       sum((body->'model_usage'->>'cache_creation_input_tokens')::bigint) as c,
       count(*) as n
     from session_events where type = 'span.model_request_end'`,
  );
  const totals = rows[0];
  return {
    input_tokens: Number(totals?.i ?? 0),
    output_tokens: Number(totals?.o ?? 0),
    cache_read_input_tokens: Number(totals?.r ?? 0),
    cache_creation_input_tokens: Number(totals?.c ?? 0),
    model_requests: Number(totals?.n ?? 0),
  };
}

/**
 * Removes a deleted session's events but keeps its `session.deleted` event (writing one if the workflow could not),
 * so a stream still open elsewhere reads it and closes; listing never shows it and the session row is gone.
 */
export async function deleteSessionEvents(pool: pg.Pool, sessionId: string, deletedEventId: string): Promise<void> {
  await withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ seq: string | null; position: string | null; has_deleted: boolean }>(
      `select max(seq) as seq, max(position) as position, bool_or(type = 'session.deleted') as has_deleted
       from session_events where session_id = $1`,
      [sessionId],
    );
    const lastSeq = Number(rows[0]?.seq ?? 0);
    if (!rows[0]?.has_deleted) {
      const event = { type: 'session.deleted', id: deletedEventId, processed_at: new Date().toISOString() };
      await client.query(
        `insert into session_events (session_id, position, seq, id, type, body, processed_at)
         values ($1, $2, $3, $4, $5, $6, $7)`,
        [sessionId, Number(rows[0]?.position ?? 0) + 1, lastSeq + 1, event.id, event.type, event, event.processed_at],
      );
      await client.query('select pg_notify($1, $2)', [
        sessionEventsChannel,
        sessionEventsNotice(sessionId, lastSeq + 1),
      ]);
    }
    await client.query(`delete from session_events where session_id = $1 and type <> 'session.deleted'`, [sessionId]);
  });
}

/**
 * Replaces each of `texts` wherever it occurs in the events of `sessionIds` (a redacted memory version's content the
 * agent wrote or read through a tool): the log keeps the event, without the text. Returns how many events changed.
 */
export async function redactTextInSessionEvents(
  db: Queryable,
  sessionIds: string[],
  texts: string[],
  replacement: string,
): Promise<number> {
  let changed = 0;
  // Inside jsonb's text form a string appears JSON-escaped, as JSON.stringify writes it (without the quotes).
  const escaped = (text: string) => JSON.stringify(text).slice(1, -1);
  for (const text of texts) {
    const result = await db.query(
      `update session_events set body = replace(body::text, $2, $3)::jsonb
       where session_id = any($1) and strpos(body::text, $2) > 0`,
      [sessionIds, escaped(text), escaped(replacement)],
    );
    changed += result.rowCount ?? 0;
  }
  return changed;
}
