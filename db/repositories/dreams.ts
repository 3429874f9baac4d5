// Dreams: their rows (status, inputs, output store, usage). The status moves pending → running → completed | failed |
// canceled, and a final status never changes again (every transition is conditional on the current one).
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { finalDreamStatuses, type DreamStatus } from '../../domain/dreams.ts';
import { makeId } from '../../domain/ids.ts';
import type { ModelUsage } from '../../domain/model.ts';
import type { Queryable } from '../queryable.ts';
import {
  createdRangeCondition,
  cursorCondition,
  isoOrNull,
  pageOf,
  type ListOptions,
  type Page,
} from './pagination.ts';

export type DreamInput =
  { type: 'memory_store'; memory_store_id: string } | { type: 'sessions'; session_ids: string[] };
export type OutputBehavior = { type: 'create_new' } | { type: 'update_existing'; memory_store_id: string };

export interface DreamRecord {
  id: string;
  type: 'dream';
  status: DreamStatus;
  inputs: DreamInput[];
  instructions: string | null;
  model: { id: string; speed: 'standard' };
  output_behavior: OutputBehavior;
  outputs: { type: 'memory_store'; memory_store_id: string }[];
  session_id: null;
  error: { type: string; message: string } | null;
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens: number;
    cache_creation_input_tokens: number;
  };
  created_at: string;
  ended_at: string | null;
  archived_at: string | null;
}

export interface DreamRow {
  id: string;
  tenant_id: string;
  position: string;
  status: DreamStatus;
  inputs: DreamInput[];
  instructions: string | null;
  model: { id: string; speed: 'standard' };
  output_behavior: OutputBehavior;
  output_memory_store_id: string | null;
  api_key_id: string | null;
  error: { type: string; message: string } | null;
  input_tokens: string;
  output_tokens: string;
  cache_read_input_tokens: string;
  cache_creation_input_tokens: string;
  created_at: Date;
  ended_at: Date | null;
  archived_at: Date | null;
}

export const toDream = (row: DreamRow): DreamRecord => ({
  id: row.id,
  type: 'dream',
  status: row.status,
  inputs: row.inputs,
  instructions: row.instructions,
  model: row.model,
  output_behavior: row.output_behavior,
  outputs: row.output_memory_store_id ? [{ type: 'memory_store', memory_store_id: row.output_memory_store_id }] : [],
  session_id: null,
  error: row.error,
  usage: {
    input_tokens: Number(row.input_tokens),
    output_tokens: Number(row.output_tokens),
    cache_read_input_tokens: Number(row.cache_read_input_tokens),
    cache_creation_input_tokens: Number(row.cache_creation_input_tokens),
  },
  created_at: row.created_at.toISOString(),
  ended_at: isoOrNull(row.ended_at),
  archived_at: isoOrNull(row.archived_at),
});

export async function insertDream(
  db: Queryable,
  tenantId: string,
  fields: Pick<DreamRecord, 'inputs' | 'instructions' | 'model' | 'output_behavior'> & { apiKeyId: string | null },
  id = makeId('dream', randomUUID()),
): Promise<DreamRow> {
  const { rows } = await db.query<DreamRow>(
    `insert into dreams (id, tenant_id, inputs, instructions, model, output_behavior, api_key_id)
     values ($1, $2, $3, $4, $5, $6, $7) returning *`,
    [
      id,
      tenantId,
      JSON.stringify(fields.inputs),
      fields.instructions,
      fields.model,
      fields.output_behavior,
      fields.apiKeyId,
    ],
  );
  return rows[0] as DreamRow;
}

export async function getDreamRow(db: Queryable, tenantId: string, id: string): Promise<DreamRow | undefined> {
  const { rows } = await db.query<DreamRow>('select * from dreams where tenant_id = $1 and id = $2', [tenantId, id]);
  return rows[0];
}

/** The dream's row locked until the transaction ends (the activities' read-modify-write). */
export async function lockDream(db: Queryable, id: string): Promise<DreamRow | undefined> {
  const { rows } = await db.query<DreamRow>('select * from dreams where id = $1 for update', [id]);
  return rows[0];
}

/** Another `update_existing` dream on the store that has not stopped, if any. */
export async function activeDreamWriting(
  db: Queryable,
  tenantId: string,
  storeId: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `select id from dreams where tenant_id = $1 and status in ('pending', 'running')
     and output_behavior->>'type' = 'update_existing' and output_behavior->>'memory_store_id' = $2 limit 1`,
    [tenantId, storeId],
  );
  return rows[0]?.id;
}

/** Moves the dream to `status` unless it has a final status already; returns the row as it is then. */
export async function setDreamStatus(
  db: Queryable,
  id: string,
  status: DreamStatus,
  extra: { error?: { type: string; message: string }; outputStoreId?: string } = {},
): Promise<DreamRow | undefined> {
  const final = finalDreamStatuses.includes(status);
  const { rows } = await db.query<DreamRow>(
    `update dreams set status = $2, error = coalesce($3, error),
       output_memory_store_id = coalesce($4, output_memory_store_id),
       ended_at = case when $5 then now() else ended_at end, updated_at = now()
     where id = $1 and status <> all($6) returning *`,
    [
      id,
      status,
      extra.error ? JSON.stringify(extra.error) : null,
      extra.outputStoreId ?? null,
      final,
      finalDreamStatuses,
    ],
  );
  return rows[0] ?? (await db.query<DreamRow>('select * from dreams where id = $1', [id])).rows[0];
}

export async function addDreamUsage(db: Queryable, id: string, usage: ModelUsage): Promise<void> {
  await db.query(
    `update dreams set input_tokens = input_tokens + $2, output_tokens = output_tokens + $3,
       cache_read_input_tokens = cache_read_input_tokens + $4,
       cache_creation_input_tokens = cache_creation_input_tokens + $5, updated_at = now() where id = $1`,
    [id, usage.inputTokens, usage.outputTokens, usage.cacheReadInputTokens, usage.cacheCreationInputTokens],
  );
}

export async function archiveDream(db: Queryable, tenantId: string, id: string): Promise<DreamRow | undefined> {
  const { rows } = await db.query<DreamRow>(
    `update dreams set archived_at = coalesce(archived_at, now()), updated_at = now()
     where tenant_id = $1 and id = $2 returning *`,
    [tenantId, id],
  );
  return rows[0];
}

export async function listDreams(
  pool: pg.Pool,
  tenantId: string,
  options: ListOptions & { statuses?: DreamStatus[]; createdGt?: string; createdLt?: string },
): Promise<Page<DreamRecord>> {
  const range = createdRangeCondition('created_at', { createdGt: options.createdGt, createdLt: options.createdLt }, 5);
  const cursor = cursorCondition('position', { ...options, order: 'desc' }, 9);
  const { rows } = await pool.query<DreamRow>(
    `select * from dreams where tenant_id = $1 and ($2 or archived_at is null)
       and ($4::text[] is null or status = any($4)) and ${range.sql} and ${cursor.sql}
     order by position desc limit $3`,
    [
      tenantId,
      options.includeArchived ?? false,
      options.limit + 1,
      options.statuses?.length ? options.statuses : null,
      ...range.params,
      ...cursor.params,
    ],
  );
  return pageOf(rows, options.limit, (row) => row.position, toDream);
}
