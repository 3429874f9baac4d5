// Tenants and their API keys. Keys are random, shown once, and stored only as SHA-256 hashes.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { makeId } from '../../domain/ids.ts';

export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

export interface CreatedTenant {
  tenantId: string;
  keyId: string;
  /** The plaintext key: returned once, never stored. */
  apiKey: string;
}

export async function createTenantWithKey(pool: pg.Pool, name: string, keyName = 'default'): Promise<CreatedTenant> {
  const tenantId = makeId('tenant', randomUUID());
  await pool.query('insert into tenants (id, name) values ($1, $2)', [tenantId, name]);
  const created = await createApiKey(pool, tenantId, keyName);
  return { tenantId, ...created };
}

export async function createApiKey(
  pool: pg.Pool,
  tenantId: string,
  name: string,
): Promise<{ keyId: string; apiKey: string }> {
  const apiKey = `sk-agents-${randomBytes(32).toString('base64url')}`;
  const keyId = makeId('apiKey', randomUUID());
  await pool.query('insert into api_keys (id, tenant_id, key_hash, name) values ($1, $2, $3, $4)', [
    keyId,
    tenantId,
    hashApiKey(apiKey),
    name,
  ]);
  return { keyId, apiKey };
}

/** The tenant a key belongs to, or undefined for an unknown or revoked key. */
export async function findTenantByApiKey(pool: pg.Pool, apiKey: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ tenant_id: string }>(
    'select tenant_id from api_keys where key_hash = $1 and revoked_at is null',
    [hashApiKey(apiKey)],
  );
  return rows[0]?.tenant_id;
}
