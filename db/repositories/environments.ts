// Environments: the sandbox configuration sessions start from. Names are unique per tenant.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { ConflictError } from '../../domain/errors.ts';
import { makeId } from '../../domain/ids.ts';
import { isoOrNull, type ListOptions, type Metadata, type Page } from './pagination.ts';
import { tenantTable } from './tenant-table.ts';

/** Anthropic's `config` (cloud networking and packages) plus this platform's `sandbox` extension; stored as given. */
export type EnvironmentConfig = Record<string, unknown> & { type: string };

export interface EnvironmentRecord {
  id: string;
  type: 'environment';
  name: string;
  description: string | null;
  config: EnvironmentConfig;
  metadata: Metadata;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
}

export interface EnvironmentFields {
  name: string;
  description: string | null;
  config: EnvironmentConfig;
  metadata: Metadata;
}

const duplicateName = (name: string): ConflictError =>
  new ConflictError(`an environment named "${name}" already exists`);

interface EnvironmentRow {
  id: string;
  position: string;
  name: string;
  description: string | null;
  config: EnvironmentConfig;
  metadata: Metadata;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

const toRecord = (row: EnvironmentRow): EnvironmentRecord => ({
  id: row.id,
  type: 'environment',
  name: row.name,
  description: row.description,
  config: row.config,
  metadata: row.metadata,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
  archived_at: isoOrNull(row.archived_at),
});

const table = tenantTable({ table: 'environments', toRecord });

const isUniqueViolation = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && 'code' in error && error.code === '23505';

export async function createEnvironment(
  pool: pg.Pool,
  tenantId: string,
  fields: EnvironmentFields,
  id = makeId('environment', randomUUID()),
): Promise<EnvironmentRecord> {
  try {
    const { rows } = await pool.query<EnvironmentRow>(
      `insert into environments (id, tenant_id, name, description, config, metadata)
       values ($1, $2, $3, $4, $5, $6) returning *`,
      [id, tenantId, fields.name, fields.description, fields.config, fields.metadata],
    );
    return toRecord(rows[0] as EnvironmentRow);
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateName(fields.name);
    throw error;
  }
}

export const getEnvironment = (pool: pg.Pool, tenantId: string, id: string): Promise<EnvironmentRecord | undefined> =>
  table.get(pool, { tenant_id: tenantId, id });

export async function updateEnvironment(
  pool: pg.Pool,
  tenantId: string,
  id: string,
  change: (current: EnvironmentFields) => EnvironmentFields,
): Promise<EnvironmentRecord | undefined> {
  const current = await getEnvironment(pool, tenantId, id);
  if (!current) return undefined;
  const next = change(current);
  try {
    const { rows } = await pool.query<EnvironmentRow>(
      `update environments set name = $3, description = $4, config = $5, metadata = $6, updated_at = now()
       where tenant_id = $1 and id = $2 returning *`,
      [tenantId, id, next.name, next.description, next.config, next.metadata],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateName(next.name);
    throw error;
  }
}

export const archiveEnvironment = (
  pool: pg.Pool,
  tenantId: string,
  id: string,
): Promise<EnvironmentRecord | undefined> => table.archive(pool, { tenant_id: tenantId, id });

export const deleteEnvironment = (pool: pg.Pool, tenantId: string, id: string): Promise<boolean> =>
  table.remove(pool, { tenant_id: tenantId, id });

export const listEnvironments = (
  pool: pg.Pool,
  tenantId: string,
  options: ListOptions,
): Promise<Page<EnvironmentRecord>> => table.list(pool, { tenant_id: tenantId }, options);
