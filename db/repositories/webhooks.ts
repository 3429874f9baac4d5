// Webhook endpoints and their delivery log. An event is recorded as one delivery row per enabled endpoint whose
// filter matches, in one statement; the row's id is the `webhook-id` every attempt sends. Attempts update the row.
import type pg from 'pg';
import type { WebhookEventBody } from '../../domain/webhooks.ts';
import { cursorCondition, pageOf, type Page } from './pagination.ts';

export interface WebhookEndpointRow {
  id: string;
  tenant_id: string;
  position: string;
  url: string;
  description: string | null;
  event_types: string[];
  secret_sealed: Buffer;
  previous_secret_sealed: Buffer | null;
  previous_secret_expires_at: Date | null;
  status: 'enabled' | 'disabled';
  disabled_reason: { type: string; failed_attempts?: number } | null;
  failure_streak: number;
  created_at: Date;
  updated_at: Date;
}

export interface WebhookDeliveryRow {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  position: string;
  event_id: string;
  event_type: string;
  subject_id: string;
  payload: WebhookEventBody;
  status: 'pending' | 'retrying' | 'succeeded' | 'failed' | 'abandoned';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  dispatched_at: Date | null;
  delivered_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export async function insertEndpoint(
  pool: pg.Pool,
  tenantId: string,
  endpoint: { id: string; url: string; description: string | null; eventTypes: string[]; secretSealed: Buffer },
): Promise<WebhookEndpointRow> {
  const { rows } = await pool.query<WebhookEndpointRow>(
    `insert into webhook_endpoints (id, tenant_id, url, description, event_types, secret_sealed)
     values ($1, $2, $3, $4, $5, $6) returning *`,
    [endpoint.id, tenantId, endpoint.url, endpoint.description, endpoint.eventTypes, endpoint.secretSealed],
  );
  return rows[0] as WebhookEndpointRow;
}

export async function getEndpoint(
  pool: pg.Pool,
  tenantId: string,
  id: string,
): Promise<WebhookEndpointRow | undefined> {
  const { rows } = await pool.query<WebhookEndpointRow>(
    'select * from webhook_endpoints where tenant_id = $1 and id = $2',
    [tenantId, id],
  );
  return rows[0];
}

export async function listEndpoints(
  pool: pg.Pool,
  tenantId: string,
  options: { limit: number; page?: string },
): Promise<Page<WebhookEndpointRow>> {
  const cursor = cursorCondition('position', { ...options, order: 'desc' }, 2);
  const { rows } = await pool.query<WebhookEndpointRow>(
    `select * from webhook_endpoints where tenant_id = $1 and ${cursor.sql}
     order by position desc limit ${options.limit + 1}`,
    [tenantId, ...cursor.params],
  );
  return pageOf(
    rows,
    options.limit,
    (row) => row.position,
    (row) => row,
  );
}

export async function updateEndpoint(
  pool: pg.Pool,
  tenantId: string,
  id: string,
  fields: { url: string; description: string | null; eventTypes: string[] },
): Promise<WebhookEndpointRow | undefined> {
  const { rows } = await pool.query<WebhookEndpointRow>(
    `update webhook_endpoints set url = $3, description = $4, event_types = $5, updated_at = now()
     where tenant_id = $1 and id = $2 returning *`,
    [tenantId, id, fields.url, fields.description, fields.eventTypes],
  );
  return rows[0];
}

/** Enables (clearing the failure streak) or disables an endpoint. */
export async function setEndpointStatus(
  pool: pg.Pool,
  tenantId: string,
  id: string,
  status: 'enabled' | 'disabled',
  reason: WebhookEndpointRow['disabled_reason'] = null,
): Promise<WebhookEndpointRow | undefined> {
  const { rows } = await pool.query<WebhookEndpointRow>(
    `update webhook_endpoints set status = $3, disabled_reason = $4,
       failure_streak = case when $3 = 'enabled' then 0 else failure_streak end, updated_at = now()
     where tenant_id = $1 and id = $2 returning *`,
    [tenantId, id, status, reason ? JSON.stringify(reason) : null],
  );
  return rows[0];
}

/** A new signing secret; the previous one keeps signing (a second signature) until `previousExpiresAt`. */
export async function rotateSecret(
  pool: pg.Pool,
  tenantId: string,
  id: string,
  secretSealed: Buffer,
  previousExpiresAt: Date,
): Promise<WebhookEndpointRow | undefined> {
  const { rows } = await pool.query<WebhookEndpointRow>(
    `update webhook_endpoints set previous_secret_sealed = secret_sealed, previous_secret_expires_at = $4,
       secret_sealed = $3, updated_at = now()
     where tenant_id = $1 and id = $2 returning *`,
    [tenantId, id, secretSealed, previousExpiresAt],
  );
  return rows[0];
}

export async function deleteEndpoint(pool: pg.Pool, tenantId: string, id: string): Promise<boolean> {
  const result = await pool.query('delete from webhook_endpoints where tenant_id = $1 and id = $2', [tenantId, id]);
  return (result.rowCount ?? 0) > 0;
}

/** Records an event for every enabled endpoint of the tenant that wants it; returns the new deliveries' ids. Idempotent
 * by event id (a repeated event adds nothing). */
export async function recordWebhookEvent(pool: pg.Pool, tenantId: string, body: WebhookEventBody): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `insert into webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, subject_id, payload)
     select 'msg_' || md5(e.id || ':' || $2), $1, e.id, $2, $3, $4, $5 from webhook_endpoints e
     where e.tenant_id = $1 and e.status = 'enabled' and (cardinality(e.event_types) = 0 or $3 = any(e.event_types))
     order by e.position
     on conflict (endpoint_id, event_id) do nothing returning id`,
    [tenantId, body.id, body.data.type, body.data.id, JSON.stringify(body)],
  );
  return rows.map((row) => row.id);
}

/**
 * A data-modifying CTE body recording the webhook events of a session's newly journaled status events (`events`: a CTE
 * with seq, id, type, body, processed_at; `sessionParam`: the session id's placeholder). One webhook event per status
 * event (plus `session.requires_action` for an idle that needs the client), its id derived from the journal event's id
 * (a retried journal write records nothing twice), one delivery per matching endpoint. Started by the sweep.
 */
export const sessionStatusWebhooksSql = (events: string, sessionParam: string): string => `
  insert into webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, subject_id, payload)
  select 'msg_' || md5(ep.id || ':' || h.event_id), s.tenant_id, ep.id, h.event_id, h.webhook_type, s.id,
    jsonb_build_object('id', h.event_id, 'type', 'event', 'created_at', h.created_at, 'data', jsonb_build_object(
      'id', s.id, 'type', h.webhook_type, 'organization_id', s.tenant_id, 'workspace_id', s.tenant_id))
  from sessions s
  cross join lateral (
    select ev.seq, m.n, m.webhook_type, 'wevt_' || md5(s.tenant_id || ':' || ev.id || ':' || m.webhook_type) as event_id,
      to_char(ev.processed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
    from ${events} ev
    join (values ('session.status_running', 'session.status_run_started', 0),
      ('session.status_idle', 'session.status_idled', 0), ('session.status_idle', 'session.requires_action', 1),
      ('session.status_rescheduled', 'session.status_rescheduled', 0),
      ('session.status_terminated', 'session.status_terminated', 0)) as m(journal_type, webhook_type, n)
      on m.journal_type = ev.type and (m.n = 0 or ev.body->'stop_reason'->>'type' = 'requires_action')
  ) h
  join webhook_endpoints ep on ep.tenant_id = s.tenant_id and ep.status = 'enabled'
    and (cardinality(ep.event_types) = 0 or h.webhook_type = any(ep.event_types))
  where s.id = ${sessionParam}
  order by h.seq, h.n, ep.position
  on conflict (endpoint_id, event_id) do nothing`;

export async function getDeliveryWithEndpoint(
  pool: pg.Pool,
  deliveryId: string,
): Promise<{ delivery: WebhookDeliveryRow; endpoint: WebhookEndpointRow } | undefined> {
  const deliveries = await pool.query<WebhookDeliveryRow>('select * from webhook_deliveries where id = $1', [
    deliveryId,
  ]);
  const delivery = deliveries.rows[0];
  if (!delivery) return undefined;
  const endpoints = await pool.query<WebhookEndpointRow>('select * from webhook_endpoints where id = $1', [
    delivery.endpoint_id,
  ]);
  return endpoints.rows[0] ? { delivery, endpoint: endpoints.rows[0] } : undefined;
}

/** Whether every earlier delivery of the same endpoint and subject has settled (per-subject ordering). */
export async function predecessorsSettled(pool: pg.Pool, delivery: WebhookDeliveryRow): Promise<boolean> {
  const { rows } = await pool.query<{ waiting: boolean }>(
    `select exists (select 1 from webhook_deliveries where endpoint_id = $1 and subject_id = $2 and position < $3
       and status in ('pending', 'retrying')) as waiting`,
    [delivery.endpoint_id, delivery.subject_id, delivery.position],
  );
  return !rows[0]?.waiting;
}

/** One attempt's outcome; a failure lengthens the endpoint's streak, a success ends it. Returns the streak. */
export async function recordAttempt(
  pool: pg.Pool,
  delivery: WebhookDeliveryRow,
  outcome: { status: WebhookDeliveryRow['status']; statusCode: number | null; error: string | null },
): Promise<number> {
  await pool.query(
    `update webhook_deliveries set status = $2, attempts = attempts + 1, last_status_code = $3, last_error = $4,
       delivered_at = case when $2 = 'succeeded' then now() else delivered_at end, updated_at = now()
     where id = $1`,
    [delivery.id, outcome.status, outcome.statusCode, outcome.error],
  );
  const { rows } = await pool.query<{ failure_streak: number }>(
    `update webhook_endpoints set failure_streak = case when $2 then 0 else failure_streak + 1 end
     where id = $1 returning failure_streak`,
    [delivery.endpoint_id, outcome.status === 'succeeded'],
  );
  return rows[0]?.failure_streak ?? 0;
}

/** Marks a delivery settled without another attempt (its endpoint is gone or disabled, or its retries ran out). */
export async function settleDelivery(pool: pg.Pool, deliveryId: string, status: 'failed' | 'abandoned'): Promise<void> {
  await pool.query(
    `update webhook_deliveries set status = $2, updated_at = now() where id = $1 and status in ('pending', 'retrying')`,
    [deliveryId, status],
  );
}

/** Deliveries whose workflow was never started (the emitter could not reach Temporal), oldest first. */
export async function undispatchedDeliveries(pool: pg.Pool, olderThanMs: number, limit = 100): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `select id from webhook_deliveries where dispatched_at is null
       and created_at < now() - make_interval(secs => $1::double precision / 1000)
     order by created_at limit $2`,
    [olderThanMs, limit],
  );
  return rows.map((row) => row.id);
}

export async function markDispatched(pool: pg.Pool, deliveryIds: string[]): Promise<void> {
  await pool.query('update webhook_deliveries set dispatched_at = now() where id = any($1) and dispatched_at is null', [
    deliveryIds,
  ]);
}

export async function listDeliveries(
  pool: pg.Pool,
  tenantId: string,
  endpointId: string,
  options: { limit: number; page?: string },
): Promise<Page<WebhookDeliveryRow>> {
  const cursor = cursorCondition('position', { ...options, order: 'desc' }, 3);
  const { rows } = await pool.query<WebhookDeliveryRow>(
    `select * from webhook_deliveries where tenant_id = $1 and endpoint_id = $2 and ${cursor.sql}
     order by position desc limit ${options.limit + 1}`,
    [tenantId, endpointId, ...cursor.params],
  );
  return pageOf(
    rows,
    options.limit,
    (row) => row.position,
    (row) => row,
  );
}
