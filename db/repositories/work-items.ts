// The work queue of self-hosted environments (see domain/self-hosted-work.ts). One row per work item; every state
// change is one conditional UPDATE, so concurrent polls, heartbeats and stops never interleave: a poll claims with
// SKIP LOCKED, a heartbeat renews the lease only if `last_heartbeat` is still what the runner last saw. A lapsed lease
// is read as `queued` and is claimable again: no timer or sweeper has to notice it.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { makeId } from '../../domain/ids.ts';
import type { WorkLeaseState, WorkState } from '../../domain/self-hosted-work.ts';
import { cursorCondition, isoOrNull, pageOf, type ListOptions, type Metadata, type Page } from './pagination.ts';

export interface WorkItemRecord {
  id: string;
  type: 'work';
  environment_id: string;
  data: { type: 'session'; id: string };
  state: WorkState;
  metadata: Metadata;
  created_at: string;
  acknowledged_at: string | null;
  started_at: string | null;
  latest_heartbeat_at: string | null;
  stop_requested_at: string | null;
  stopped_at: string | null;
  secret: string | null;
}

interface WorkItemRow {
  id: string;
  tenant_id: string;
  environment_id: string;
  session_id: string;
  position: string;
  state: WorkState;
  effective_state: WorkState;
  metadata: Metadata;
  created_at: Date;
  acknowledged_at: Date | null;
  started_at: Date | null;
  last_heartbeat: string | null;
  latest_heartbeat_at: Date | null;
  lease_ttl_seconds: number;
  stop_requested_at: Date | null;
  stopped_at: Date | null;
}

/** The state as clients see it: a lapsed lease is queued again (or stopped, if a stop was asked). */
const effectiveState = `case
  when state in ('starting', 'active') and lease_expires_at < now() then 'queued'
  when state = 'stopping' and lease_expires_at < now() then 'stopped'
  else state end as effective_state`;
const columns = `*, ${effectiveState}`;
const heartbeatStamp = `to_char(clock_timestamp() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export interface WorkItem {
  record: WorkItemRecord;
  tenantId: string;
  sessionId: string;
  lease: WorkLeaseState;
}

const toItem = (row: WorkItemRow, leaseExtended = false): WorkItem => ({
  tenantId: row.tenant_id,
  sessionId: row.session_id,
  record: {
    id: row.id,
    type: 'work',
    environment_id: row.environment_id,
    data: { type: 'session', id: row.session_id },
    state: row.effective_state,
    metadata: row.metadata,
    created_at: row.created_at.toISOString(),
    acknowledged_at: isoOrNull(row.acknowledged_at),
    started_at: isoOrNull(row.started_at),
    latest_heartbeat_at: isoOrNull(row.latest_heartbeat_at),
    stop_requested_at: isoOrNull(row.stop_requested_at),
    stopped_at: isoOrNull(row.stopped_at),
    secret: null,
  },
  lease: {
    state: row.effective_state,
    last_heartbeat: row.last_heartbeat,
    lease_extended: leaseExtended,
    ttl_seconds: row.lease_ttl_seconds,
  },
});

interface ItemKey {
  tenantId: string;
  environmentId: string;
  workId: string;
}

/**
 * Queues an item for the session unless one is open (not stopped) or the session is archived (a workflow still
 * winding down must not leave an item behind the archive's stop). A graceful stop whose runner is gone is closed
 * first, so it cannot hold the session's place. Returns the open item's id ('' when none).
 */
export async function ensureOpenWorkItem(
  pool: pg.Pool,
  session: { tenantId: string; environmentId: string; sessionId: string },
): Promise<string> {
  await pool.query(
    `update work_items set state = 'stopped', stopped_at = now()
     where session_id = $1 and state = 'stopping' and lease_expires_at < now()`,
    [session.sessionId],
  );
  const { rows } = await pool.query<{ id: string }>(
    `with inserted as (
       insert into work_items (id, tenant_id, environment_id, session_id)
       select $1, $2, $3, $4
       where not exists (select 1 from sessions where id = $4 and archived_at is not null)
       on conflict (session_id) where state <> 'stopped' do nothing
       returning id)
     select id from inserted
     union all
     select id from work_items where session_id = $4 and state <> 'stopped'
     limit 1`,
    [makeId('work', randomUUID()), session.tenantId, session.environmentId, session.sessionId],
  );
  return rows[0]?.id ?? '';
}

/** Hands the oldest claimable item to a poller: never delivered, delivered but not acknowledged in time, or lapsed. */
export async function claimWorkItem(
  pool: pg.Pool,
  tenantId: string,
  environmentId: string,
  workerId: string | undefined,
  reclaimAfterMs: number,
): Promise<WorkItem | undefined> {
  const { rows } = await pool.query<WorkItemRow>(
    `with candidate as (
       select id from work_items
       where tenant_id = $1 and environment_id = $2 and (
         (state = 'queued' and (delivered_at is null or delivered_at < now() - $3::integer * interval '1 millisecond'))
         or (state in ('starting', 'active') and lease_expires_at < now()))
       order by position
       for update skip locked
       limit 1)
     update work_items w set state = 'queued', delivered_at = now(), delivery_count = w.delivery_count + 1,
       worker_id = $4::text, acknowledged_at = null, last_heartbeat = null, latest_heartbeat_at = null,
       lease_expires_at = null
     from candidate where w.id = candidate.id
     returning w.*, 'queued' as effective_state`,
    [tenantId, environmentId, reclaimAfterMs, workerId ?? null],
  );
  return rows[0] ? toItem(rows[0]) : undefined;
}

/** Notes a poll by `workerId`; pollers silent for a day are forgotten (a runner's id is new at every start). */
export async function recordPoller(pool: pg.Pool, environmentId: string, workerId: string): Promise<void> {
  await pool.query(
    `with forgotten as (delete from work_pollers where environment_id = $1 and last_poll_at < now() - interval '1 day')
     insert into work_pollers (environment_id, worker_id) values ($1, $2)
     on conflict (environment_id, worker_id) do update set last_poll_at = now()`,
    [environmentId, workerId],
  );
}

export async function getWorkItem(pool: pg.Pool, key: ItemKey): Promise<WorkItem | undefined> {
  const { rows } = await pool.query<WorkItemRow>(
    `select ${columns} from work_items where tenant_id = $1 and environment_id = $2 and id = $3`,
    [key.tenantId, key.environmentId, key.workId],
  );
  return rows[0] ? toItem(rows[0]) : undefined;
}

/** The item behind a sessions token, whatever its tenant (the token proves it). */
export async function findWorkItemById(pool: pg.Pool, workId: string): Promise<WorkItem | undefined> {
  const { rows } = await pool.query<WorkItemRow>(`select ${columns} from work_items where id = $1`, [workId]);
  return rows[0] ? toItem(rows[0]) : undefined;
}

/** queued (delivered) → starting. Acknowledging again is a no-op; undefined when the item is not there. */
export async function acknowledgeWorkItem(
  pool: pg.Pool,
  key: ItemKey,
  ttlSeconds: number,
): Promise<WorkItem | undefined> {
  await pool.query(
    `update work_items set state = 'starting', acknowledged_at = now(), lease_ttl_seconds = $4::integer,
       lease_expires_at = now() + $4::integer * interval '1 second'
     where tenant_id = $1 and environment_id = $2 and id = $3 and state = 'queued' and delivered_at is not null`,
    [key.tenantId, key.environmentId, key.workId, ttlSeconds],
  );
  return getWorkItem(pool, key);
}

export type HeartbeatOutcome = { kind: 'renewed' | 'not_renewed' | 'precondition_failed'; item: WorkItem };

/**
 * Renews the lease if the runner's `expected` (null for the first heartbeat) is the stored last heartbeat. A stopping
 * or stopped item is not compared: the answer tells the runner to wind down.
 */
export async function heartbeatWorkItem(
  pool: pg.Pool,
  key: ItemKey,
  expected: string | null,
  ttlSeconds: number,
): Promise<HeartbeatOutcome | undefined> {
  const { rows } = await pool.query<WorkItemRow>(
    `update work_items set last_heartbeat = ${heartbeatStamp}, latest_heartbeat_at = now(),
       lease_ttl_seconds = $5::integer, lease_expires_at = now() + $5::integer * interval '1 second',
       state = case when state = 'starting' then 'active' else state end,
       started_at = coalesce(started_at, now())
     where tenant_id = $1 and environment_id = $2 and id = $3 and state in ('starting', 'active')
       and lease_expires_at >= now() and last_heartbeat is not distinct from $4::text
     returning ${columns}`,
    [key.tenantId, key.environmentId, key.workId, expected, ttlSeconds],
  );
  if (rows[0]) return { kind: 'renewed', item: toItem(rows[0], true) };
  const item = await getWorkItem(pool, key);
  if (!item) return undefined;
  const winding = item.record.state === 'stopping' || item.record.state === 'stopped';
  return { kind: winding ? 'not_renewed' : 'precondition_failed', item };
}

/** Graceful: a running item goes to `stopping` (its runner learns it on the next heartbeat). Forced: `stopped` now. */
export async function stopWorkItem(
  pool: pg.Pool,
  key: ItemKey,
  force: boolean,
): Promise<{ kind: 'stopped' | 'already_stopped'; item: WorkItem } | undefined> {
  const { rows } = await pool.query<WorkItemRow>(
    `with current as (select ${columns} from work_items where tenant_id = $1 and environment_id = $2 and id = $3
                      for update)
     update work_items w set
       stop_requested_at = coalesce(w.stop_requested_at, now()),
       state = case when $4::boolean or current.effective_state = 'queued' then 'stopped' else 'stopping' end,
       stopped_at = case when $4::boolean or current.effective_state = 'queued' then now() else null end
     from current where w.id = current.id and current.effective_state <> 'stopped'
     returning w.*, (case when w.state = 'stopping' then 'stopping' else 'stopped' end) as effective_state`,
    [key.tenantId, key.environmentId, key.workId, force],
  );
  if (rows[0]) return { kind: 'stopped', item: toItem(rows[0]) };
  const item = await getWorkItem(pool, key);
  return item ? { kind: 'already_stopped', item } : undefined;
}

/**
 * Ends a session's open item when the session ends: a queued (or lapsed) one is stopped at once, a running one asked
 * to stop gracefully (its runner also reads the session's termination); `force` stops it whatever its state.
 */
export async function stopSessionWorkItems(
  pool: pg.Pool,
  tenantId: string,
  sessionId: string,
  force: boolean,
): Promise<void> {
  const now = `$3::boolean or state = 'queued' or lease_expires_at < now()`;
  await pool.query(
    `update work_items set stop_requested_at = coalesce(stop_requested_at, now()),
       state = case when ${now} then 'stopped' else 'stopping' end,
       stopped_at = case when ${now} then now() else null end
     where tenant_id = $1 and session_id = $2 and state <> 'stopped'`,
    [tenantId, sessionId, force],
  );
}

export async function updateWorkItemMetadata(
  pool: pg.Pool,
  key: ItemKey,
  patch: (current: Metadata) => Metadata,
): Promise<WorkItem | undefined> {
  const current = await getWorkItem(pool, key);
  if (!current) return undefined;
  await pool.query('update work_items set metadata = $4 where tenant_id = $1 and environment_id = $2 and id = $3', [
    key.tenantId,
    key.environmentId,
    key.workId,
    patch(current.record.metadata),
  ]);
  return getWorkItem(pool, key);
}

export async function listWorkItems(
  pool: pg.Pool,
  tenantId: string,
  environmentId: string,
  options: ListOptions,
): Promise<Page<WorkItemRecord>> {
  const cursor = cursorCondition('position', { ...options, order: 'desc' }, 3);
  const { rows } = await pool.query<WorkItemRow>(
    `select ${columns} from work_items where tenant_id = $1 and environment_id = $2 and ${cursor.sql}
     order by position desc limit ${options.limit + 1}`,
    [tenantId, environmentId, ...cursor.params],
  );
  return pageOf(
    rows,
    options.limit,
    (row) => row.position,
    (row) => toItem(row).record,
  );
}

export interface WorkQueueStats {
  type: 'work_queue_stats';
  depth: number;
  pending: number;
  oldest_queued_at: string | null;
  workers_polling: number;
}

/** depth: waiting for a poll; pending: polled, not acknowledged yet; workers: polled in the last 30 seconds. */
export async function workQueueStats(
  pool: pg.Pool,
  tenantId: string,
  environmentId: string,
  reclaimAfterMs: number,
): Promise<WorkQueueStats> {
  const { rows } = await pool.query<{ depth: string; pending: string; oldest: Date | null; workers: string }>(
    `with items as (select ${columns} from work_items where tenant_id = $1 and environment_id = $2 and state <> 'stopped')
     select
       count(*) filter (where effective_state = 'queued' and (state <> 'queued' or delivered_at is null
         or delivered_at < now() - $3::integer * interval '1 millisecond')) as depth,
       count(*) filter (where state = 'queued' and delivered_at >= now() - $3::integer * interval '1 millisecond')
         as pending,
       min(created_at) filter (where effective_state = 'queued') as oldest,
       (select count(*) from work_pollers where environment_id = $2
          and last_poll_at > now() - interval '30 seconds') as workers
     from items`,
    [tenantId, environmentId, reclaimAfterMs],
  );
  const row = rows[0];
  return {
    type: 'work_queue_stats',
    depth: Number(row?.depth ?? 0),
    pending: Number(row?.pending ?? 0),
    oldest_queued_at: isoOrNull(row?.oldest ?? null),
    workers_polling: Number(row?.workers ?? 0),
  };
}
