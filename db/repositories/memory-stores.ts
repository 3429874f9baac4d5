// Memory stores: the named containers of memories (memories.ts) and their versions (memory-versions.ts).
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { makeId } from '../../domain/ids.ts';
import type { Queryable } from '../queryable.ts';
import {
  createdRangeCondition,
  isoOrNull,
  pageOf,
  cursorCondition,
  type ListOptions,
  type Metadata,
} from './pagination.ts';
import type { CreatedRange, Page } from './pagination.ts';
import { tenantTable } from './tenant-table.ts';

export interface MemoryStoreRecord {
  id: string;
  type: 'memory_store';
  name: string;
  description: string;
  metadata: Metadata;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
}

interface MemoryStoreRow {
  id: string;
  position: string;
  name: string;
  description: string;
  metadata: Metadata;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

const toMemoryStore = (row: MemoryStoreRow): MemoryStoreRecord => ({
  id: row.id,
  type: 'memory_store',
  name: row.name,
  description: row.description,
  metadata: row.metadata,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
  archived_at: isoOrNull(row.archived_at),
});

const stores = tenantTable({ table: 'memory_stores', toRecord: toMemoryStore });

export async function createMemoryStore(
  db: Queryable,
  tenantId: string,
  fields: { name: string; description: string; metadata: Metadata },
  id = makeId('memoryStore', randomUUID()),
): Promise<MemoryStoreRecord> {
  const { rows } = await db.query<MemoryStoreRow>(
    `insert into memory_stores (id, tenant_id, name, description, metadata) values ($1, $2, $3, $4, $5) returning *`,
    [id, tenantId, fields.name, fields.description, fields.metadata],
  );
  return toMemoryStore(rows[0] as MemoryStoreRow);
}

export const getMemoryStore = (db: Queryable, tenantId: string, id: string): Promise<MemoryStoreRecord | undefined> =>
  stores.get(db, { tenant_id: tenantId, id });

/** The store, locked until the transaction ends: writes to one store's memories are serialised on it. */
export async function lockMemoryStore(
  client: pg.PoolClient,
  tenantId: string,
  id: string,
): Promise<MemoryStoreRecord | undefined> {
  const { rows } = await client.query<MemoryStoreRow>(
    'select * from memory_stores where tenant_id = $1 and id = $2 for update',
    [tenantId, id],
  );
  return rows[0] ? toMemoryStore(rows[0]) : undefined;
}

export async function updateMemoryStore(
  pool: pg.Pool,
  tenantId: string,
  id: string,
  fields: { name: string; description: string; metadata: Metadata },
): Promise<MemoryStoreRecord | undefined> {
  const { rows } = await pool.query<MemoryStoreRow>(
    `update memory_stores set name = $3, description = $4, metadata = $5, updated_at = now()
     where tenant_id = $1 and id = $2 returning *`,
    [tenantId, id, fields.name, fields.description, fields.metadata],
  );
  return rows[0] ? toMemoryStore(rows[0]) : undefined;
}

export const archiveMemoryStore = (pool: pg.Pool, tenantId: string, id: string) =>
  stores.archive(pool, { tenant_id: tenantId, id });

/** Deletes the store with its memories and versions (cascade). */
export const deleteMemoryStore = (pool: pg.Pool, tenantId: string, id: string): Promise<boolean> =>
  stores.remove(pool, { tenant_id: tenantId, id });

export async function listMemoryStores(
  pool: pg.Pool,
  tenantId: string,
  options: ListOptions & Pick<CreatedRange, 'createdGte' | 'createdLte'>,
): Promise<Page<MemoryStoreRecord>> {
  const range = createdRangeCondition(
    'created_at',
    { createdGte: options.createdGte, createdLte: options.createdLte },
    4,
  );
  const cursor = cursorCondition('position', { ...options, order: 'desc' }, 8);
  const { rows } = await pool.query<MemoryStoreRow>(
    `select * from memory_stores where tenant_id = $1 and ($2 or archived_at is null) and ${range.sql}
     and ${cursor.sql} order by position desc limit $3`,
    [tenantId, options.includeArchived ?? false, options.limit + 1, ...range.params, ...cursor.params],
  );
  return pageOf(rows, options.limit, (row) => row.position, toMemoryStore);
}

/** Which of `ids` are this tenant's stores, with their name and description (archived ones included). */
export async function memoryStoresByIds(
  db: Queryable,
  tenantId: string,
  ids: string[],
): Promise<Map<string, MemoryStoreRecord>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<MemoryStoreRow>('select * from memory_stores where tenant_id = $1 and id = any($2)', [
    tenantId,
    ids,
  ]);
  return new Map(rows.map((row) => [row.id, toMemoryStore(row)]));
}
