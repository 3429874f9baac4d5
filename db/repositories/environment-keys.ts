// Environment keys: the credential a self-hosted environment's runner polls with. Random, shown once at creation,
// stored only as a SHA-256 hash (with the last four characters as a hint); revoked keys stop working at once.
import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { makeId } from '../../domain/ids.ts';
import { cursorCondition, isoOrNull, pageOf, type ListOptions, type Page } from './pagination.ts';
import { hashApiKey } from './api-keys.ts';

export const environmentKeyPrefix = 'sk-agents-env-';

export interface EnvironmentKeyRecord {
  id: string;
  type: 'environment_key';
  environment_id: string;
  name: string;
  key_hint: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

interface EnvironmentKeyRow {
  id: string;
  position: string;
  environment_id: string;
  name: string;
  key_hint: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const toRecord = (row: EnvironmentKeyRow): EnvironmentKeyRecord => ({
  id: row.id,
  type: 'environment_key',
  environment_id: row.environment_id,
  name: row.name,
  key_hint: row.key_hint,
  created_at: row.created_at.toISOString(),
  last_used_at: isoOrNull(row.last_used_at),
  revoked_at: isoOrNull(row.revoked_at),
});

/** Creates a key; the plaintext is returned here once and never stored. */
export async function createEnvironmentKey(
  pool: pg.Pool,
  tenantId: string,
  environmentId: string,
  name: string,
): Promise<{ record: EnvironmentKeyRecord; key: string }> {
  const key = `${environmentKeyPrefix}${randomBytes(32).toString('base64url')}`;
  const { rows } = await pool.query<EnvironmentKeyRow>(
    `insert into environment_keys (id, tenant_id, environment_id, name, key_hash, key_hint)
     values ($1, $2, $3, $4, $5, $6) returning *`,
    [makeId('environmentKey', randomUUID()), tenantId, environmentId, name, hashApiKey(key), key.slice(-4)],
  );
  return { record: toRecord(rows[0] as EnvironmentKeyRow), key };
}

export async function listEnvironmentKeys(
  pool: pg.Pool,
  tenantId: string,
  environmentId: string,
  options: ListOptions,
): Promise<Page<EnvironmentKeyRecord>> {
  const cursor = cursorCondition('position', { ...options, order: 'asc' }, 3);
  const { rows } = await pool.query<EnvironmentKeyRow>(
    `select * from environment_keys where tenant_id = $1 and environment_id = $2 and ${cursor.sql}
     order by position asc limit ${options.limit + 1}`,
    [tenantId, environmentId, ...cursor.params],
  );
  return pageOf(rows, options.limit, (row) => row.position, toRecord);
}

export async function revokeEnvironmentKey(
  pool: pg.Pool,
  tenantId: string,
  environmentId: string,
  keyId: string,
): Promise<EnvironmentKeyRecord | undefined> {
  const { rows } = await pool.query<EnvironmentKeyRow>(
    `update environment_keys set revoked_at = coalesce(revoked_at, now())
     where tenant_id = $1 and environment_id = $2 and id = $3 returning *`,
    [tenantId, environmentId, keyId],
  );
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/**
 * The tenant and environment of a live key, or undefined (unknown, revoked, or its environment archived). Moves
 * `last_used_at` at most once a minute: a runner polls every few seconds.
 */
export async function findEnvironmentKey(
  pool: pg.Pool,
  key: string,
): Promise<{ tenantId: string; environmentId: string; keyId: string } | undefined> {
  const { rows } = await pool.query<{ id: string; tenant_id: string; environment_id: string }>(
    `with found as (
       select k.id, k.tenant_id, k.environment_id, k.last_used_at from environment_keys k
       join environments e on e.id = k.environment_id
       where k.key_hash = $1 and k.revoked_at is null and e.archived_at is null),
     touched as (
       update environment_keys set last_used_at = now()
       where id in (select id from found where last_used_at is null or last_used_at < now() - interval '1 minute'))
     select id, tenant_id, environment_id from found`,
    [hashApiKey(key)],
  );
  const row = rows[0];
  return row ? { tenantId: row.tenant_id, environmentId: row.environment_id, keyId: row.id } : undefined;
}
