// The Idempotency-Key store: a POST with a key claims (scope, key) with its request's hash before it runs, and the
// answer is kept for 24 h. A key older than that is claimed afresh. A claim still without an answer after the lease
// (its API process died mid-request) is taken over by a retry of the same request, which runs it again: the routes
// derive what they create from the key, so the second run meets the first one's effect instead of repeating it.
import type pg from 'pg';

export interface StoredAnswer {
  requestHash: string;
  /** Null while the first request with this key is still running. */
  status: number | null;
  contentType: string | null;
  body: string | null;
}

/** Claims the key for this request; or, when someone holds it, what they stored. */
export async function claimIdempotencyKey(
  pool: pg.Pool,
  scope: string,
  key: string,
  requestHash: string,
  leaseSeconds = 60,
): Promise<{ claimed: true } | { claimed: false; answer: StoredAnswer }> {
  const claimed = await pool.query(
    `insert into idempotency_keys (scope, key, request_hash) values ($1, $2, $3)
     on conflict (scope, key) do update
       set request_hash = excluded.request_hash, status = null, content_type = null, body = null, created_at = now()
       where idempotency_keys.created_at < now() - interval '24 hours'
          or (idempotency_keys.status is null and idempotency_keys.request_hash = excluded.request_hash
              and idempotency_keys.created_at < now() - make_interval(secs => $4))
     returning 1`,
    [scope, key, requestHash, leaseSeconds],
  );
  if (claimed.rowCount) return { claimed: true };
  const { rows } = await pool.query<{
    request_hash: string;
    status: number | null;
    content_type: string | null;
    body: string | null;
  }>('select request_hash, status, content_type, body from idempotency_keys where scope = $1 and key = $2', [
    scope,
    key,
  ]);
  const row = rows[0];
  // Claimed and released in between: try once more.
  if (!row) return claimIdempotencyKey(pool, scope, key, requestHash, leaseSeconds);
  return {
    claimed: false,
    answer: { requestHash: row.request_hash, status: row.status, contentType: row.content_type, body: row.body },
  };
}

export async function storeIdempotentAnswer(
  pool: pg.Pool,
  scope: string,
  key: string,
  answer: { status: number; contentType: string | null; body: string },
): Promise<void> {
  await pool.query(
    'update idempotency_keys set status = $3, content_type = $4, body = $5 where scope = $1 and key = $2',
    [scope, key, answer.status, answer.contentType, answer.body],
  );
}

/** Frees the key (the request failed in a way a retry should run again: a 5xx, a 429). */
export async function releaseIdempotencyKey(pool: pg.Pool, scope: string, key: string): Promise<void> {
  await pool.query('delete from idempotency_keys where scope = $1 and key = $2 and status is null', [scope, key]);
}
