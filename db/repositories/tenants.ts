// Tenants: the unit of isolation (every resource row carries its tenant). Created by an admin key through
// /v1/admin/tenants, or by scripts/create-tenant.ts with a first key.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { makeId } from '../../domain/ids.ts';
import type { TenantLimitOverrides } from '../../domain/tenant-limits.ts';
import { issueApiKey, type ApiKeyScope } from './api-keys.ts';
import { cursorCondition, pageOf, type ListOptions, type Page } from './pagination.ts';

export interface TenantRecord {
  id: string;
  type: 'tenant';
  name: string;
  /** The tenant's own limits (absent fields: the platform's defaults). */
  limits: TenantLimitOverrides;
  created_at: string;
}

interface TenantRow {
  id: string;
  name: string;
  limits: TenantLimitOverrides;
  created_at: Date;
  position: string;
}

const toTenant = (row: TenantRow): TenantRecord => ({
  id: row.id,
  type: 'tenant',
  name: row.name,
  limits: row.limits,
  created_at: row.created_at.toISOString(),
});

export async function createTenant(
  pool: pg.Pool,
  name: string,
  limits: TenantLimitOverrides = {},
): Promise<TenantRecord> {
  const { rows } = await pool.query<TenantRow>(
    'insert into tenants (id, name, limits) values ($1, $2, $3) returning *',
    [makeId('tenant', randomUUID()), name, limits],
  );
  return toTenant(rows[0] as TenantRow);
}

/** Renames a tenant and/or replaces its limit overrides. */
export async function updateTenant(
  pool: pg.Pool,
  id: string,
  fields: { name?: string; limits?: TenantLimitOverrides },
): Promise<TenantRecord | undefined> {
  const { rows } = await pool.query<TenantRow>(
    'update tenants set name = coalesce($2, name), limits = coalesce($3, limits) where id = $1 returning *',
    [id, fields.name ?? null, fields.limits ?? null],
  );
  return rows[0] ? toTenant(rows[0]) : undefined;
}

export async function getTenant(pool: pg.Pool, id: string): Promise<TenantRecord | undefined> {
  const { rows } = await pool.query<TenantRow>('select * from tenants where id = $1', [id]);
  return rows[0] ? toTenant(rows[0]) : undefined;
}

export async function listTenants(pool: pg.Pool, options: ListOptions): Promise<Page<TenantRecord>> {
  const cursor = cursorCondition('position', { ...options, order: 'desc' }, 1);
  const { rows } = await pool.query<TenantRow>(
    `select * from tenants where ${cursor.sql} order by position desc limit ${options.limit + 1}`,
    cursor.params,
  );
  return pageOf(rows, options.limit, (row) => row.position, toTenant);
}

export interface CreatedTenant {
  tenantId: string;
  keyId: string;
  /** The plaintext key: returned once, never stored. */
  apiKey: string;
}

/** A tenant and its first key (scripts and tests). */
export async function createTenantWithKey(
  pool: pg.Pool,
  name: string,
  keyName = 'default',
  scope: Exclude<ApiKeyScope, 'admin'> = 'full',
): Promise<CreatedTenant> {
  const tenant = await createTenant(pool, name);
  const issued = await issueApiKey(pool, { tenantId: tenant.id, name: keyName, scope });
  return { tenantId: tenant.id, keyId: issued.record.id, apiKey: issued.key };
}
