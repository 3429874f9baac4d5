// API keys: random, shown once, stored only as SHA-256 hashes with a hint (their last four characters). A key has a
// scope — `full` or `read_only` for a tenant's key, `admin` for the platform's (no tenant). Authentication is one
// indexed lookup per request (no cache, so a revoked key fails at once) that also moves `last_used_at`, at most once
// a minute per key.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Queryable } from '../queryable.ts';
import { ConflictError } from '../../domain/errors.ts';
import { makeId } from '../../domain/ids.ts';
import type { KeyLimitOverrides, TenantLimitOverrides } from '../../domain/tenant-limits.ts';
import { cursorCondition, isoOrNull, pageOf, type ListOptions, type Page } from './pagination.ts';
import { withTransaction } from '../transaction.ts';

export const apiKeyScopes = ['full', 'read_only', 'admin'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

export interface ApiKeyRecord {
  id: string;
  type: 'api_key';
  tenant_id: string | null;
  name: string;
  scope: ApiKeyScope;
  /** `sk-agents-…abcd`: enough to tell keys apart, useless to an attacker. */
  hint: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  expires_at: string | null;
  /** The key a rotation replaced this one with. */
  rotated_to: string | null;
  /** This key's own limits (absent fields: the platform's defaults). */
  limits: KeyLimitOverrides;
}

/** A key as created: the record and, this once, the plaintext. */
export interface IssuedApiKey {
  record: ApiKeyRecord;
  key: string;
}

/** What a request authenticated as, with the limit overrides of its tenant and key. */
export interface Caller {
  keyId: string;
  tenantId: string | null;
  scope: ApiKeyScope;
  tenantLimits: TenantLimitOverrides;
  keyLimits: KeyLimitOverrides;
}

interface ApiKeyRow {
  id: string;
  tenant_id: string | null;
  name: string;
  scope: ApiKeyScope;
  key_hint: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  expires_at: Date | null;
  rotated_to: string | null;
  limits: KeyLimitOverrides;
  position: string;
}

const toRecord = (row: ApiKeyRow): ApiKeyRecord => ({
  id: row.id,
  type: 'api_key',
  tenant_id: row.tenant_id,
  name: row.name,
  scope: row.scope,
  hint: row.key_hint,
  created_at: row.created_at.toISOString(),
  last_used_at: isoOrNull(row.last_used_at),
  revoked_at: isoOrNull(row.revoked_at),
  expires_at: isoOrNull(row.expires_at),
  rotated_to: row.rotated_to,
  limits: row.limits,
});

export async function issueApiKey(
  db: Queryable,
  fields: { tenantId: string | null; name: string; scope: ApiKeyScope; limits?: KeyLimitOverrides },
): Promise<IssuedApiKey> {
  const key = `sk-agents-${randomBytes(32).toString('base64url')}`;
  const { rows } = await db.query<ApiKeyRow>(
    `insert into api_keys (id, tenant_id, key_hash, name, scope, key_hint, limits)
     values ($1, $2, $3, $4, $5, $6, $7) returning *`,
    [
      makeId('apiKey', randomUUID()),
      fields.tenantId,
      hashApiKey(key),
      fields.name,
      fields.scope,
      `sk-agents-…${key.slice(-4)}`,
      fields.limits ?? {},
    ],
  );
  return { record: toRecord(rows[0] as ApiKeyRow), key };
}

/** The live key behind a presented secret (not revoked, not past its rotation grace), or undefined. */
export async function authenticateApiKey(pool: pg.Pool, key: string): Promise<Caller | undefined> {
  const { rows } = await pool.query<{
    id: string;
    tenant_id: string | null;
    scope: ApiKeyScope;
    key_limits: KeyLimitOverrides;
    tenant_limits: TenantLimitOverrides | null;
  }>(
    `with found as (
       select id, tenant_id, scope, last_used_at, limits from api_keys
       where key_hash = $1 and revoked_at is null and (expires_at is null or expires_at > now())
     ), touched as (
       update api_keys set last_used_at = now() from found
       where api_keys.id = found.id and (found.last_used_at is null or found.last_used_at < now() - interval '1 minute')
       returning 1
     )
     select found.id, found.tenant_id, found.scope, found.limits as key_limits, t.limits as tenant_limits
     from found left join tenants t on t.id = found.tenant_id`,
    [hashApiKey(key)],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    keyId: row.id,
    tenantId: row.tenant_id,
    scope: row.scope,
    tenantLimits: row.tenant_limits ?? {},
    keyLimits: row.key_limits,
  };
}

export async function getApiKey(pool: pg.Pool, id: string): Promise<ApiKeyRecord | undefined> {
  const { rows } = await pool.query<ApiKeyRow>('select * from api_keys where id = $1', [id]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** A tenant's keys (newest first), or the platform's admin keys when tenantId is null. */
export async function listApiKeys(
  pool: pg.Pool,
  tenantId: string | null,
  options: ListOptions,
): Promise<Page<ApiKeyRecord>> {
  const cursor = cursorCondition('position', { ...options, order: 'desc' }, 2);
  const { rows } = await pool.query<ApiKeyRow>(
    `select * from api_keys where tenant_id is not distinct from $1 and ${cursor.sql}
     ${options.includeArchived ? '' : 'and revoked_at is null'}
     order by position desc limit ${options.limit + 1}`,
    [tenantId, ...cursor.params],
  );
  return pageOf(rows, options.limit, (row) => row.position, toRecord);
}

/** Revokes a key at once (idempotent: a revoked key keeps its first revocation time). */
export async function revokeApiKey(pool: pg.Pool, id: string): Promise<ApiKeyRecord | undefined> {
  const { rows } = await pool.query<ApiKeyRow>(
    'update api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1 returning *',
    [id],
  );
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/**
 * Issues a successor with the same tenant, name and scope; the old key stops working after `graceSeconds` (0: at
 * once), so callers can switch without downtime.
 */
export async function rotateApiKey(pool: pg.Pool, id: string, graceSeconds: number): Promise<IssuedApiKey | undefined> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<ApiKeyRow>('select * from api_keys where id = $1 for update', [id]);
    const old = rows[0];
    if (!old) return undefined;
    if (old.revoked_at || old.rotated_to || (old.expires_at && old.expires_at.getTime() <= Date.now())) {
      throw new ConflictError(`API key ${id} is revoked or already rotated`);
    }
    const issued = await issueApiKey(client, {
      tenantId: old.tenant_id,
      name: old.name,
      scope: old.scope,
      limits: old.limits,
    });
    await client.query(
      `update api_keys set rotated_to = $2, expires_at = now() + make_interval(secs => $3::double precision),
         revoked_at = case when $3::double precision = 0 then now() else null end
       where id = $1`,
      [id, issued.record.id, graceSeconds],
    );
    return issued;
  });
}
