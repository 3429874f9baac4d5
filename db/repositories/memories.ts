// Memories: text documents at paths in a memory store. Every write (from the API or a session's sync) runs in one
// transaction that locks the store, changes the live row and appends a memory version naming who wrote it, so the
// versions are the complete history and two writers never interleave inside one store.
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { makeId } from '../../domain/ids.ts';
import { MemoryConflictError, pathsOverlap } from '../../domain/memory.ts';
import { withTransaction } from '../transaction.ts';
import type { Queryable } from '../queryable.ts';
import { lockMemoryStore } from './memory-stores.ts';
import { cursorCondition, pageOf, type ListOptions, type Page } from './pagination.ts';

/** Who made a change: a caller of the API (its key) or an agent writing through a session's mount. */
export type MemoryActor = { type: 'api_actor'; api_key_id: string } | { type: 'session_actor'; session_id: string };

export type MemoryView = 'basic' | 'full';

export interface MemoryRecord {
  id: string;
  type: 'memory';
  memory_store_id: string;
  path: string;
  content?: string | null;
  content_sha256: string;
  content_size_bytes: number;
  memory_version_id: string;
  created_at: string;
  updated_at: string;
}

export interface MemoryRow {
  id: string;
  position: string;
  memory_store_id: string;
  path: string;
  content: string;
  content_sha256: string;
  content_size_bytes: number;
  memory_version_id: string;
  created_at: Date;
  updated_at: Date;
}

export const sha256Hex = (content: string): string => createHash('sha256').update(content, 'utf8').digest('hex');

export const toMemory = (row: MemoryRow, view: MemoryView): MemoryRecord => ({
  id: row.id,
  type: 'memory',
  memory_store_id: row.memory_store_id,
  path: row.path,
  content: view === 'full' ? row.content : null,
  content_sha256: row.content_sha256,
  content_size_bytes: row.content_size_bytes,
  memory_version_id: row.memory_version_id,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
});

export async function getMemory(db: Queryable, storeId: string, id: string): Promise<MemoryRow | undefined> {
  const { rows } = await db.query<MemoryRow>('select * from memories where memory_store_id = $1 and id = $2', [
    storeId,
    id,
  ]);
  return rows[0];
}

/** A page of a store's memories under `prefix`, path order; with `depth` 1, deeper paths roll up to prefixes. */
export async function listMemories(
  pool: pg.Pool,
  storeId: string,
  options: ListOptions & { prefix: string; depth: number; view: MemoryView },
): Promise<Page<MemoryRecord | { type: 'memory_prefix'; path: string }>> {
  const cursor = cursorCondition('position', { ...options, order: 'asc' }, 4);
  const { rows } = await pool.query<MemoryRow>(
    `select * from memories where memory_store_id = $1 and starts_with(path, $2) and ${cursor.sql}
     order by position limit $3`,
    [storeId, options.prefix, options.depth === 1 ? 100_000 : options.limit + 1, ...cursor.params],
  );
  if (options.depth !== 1)
    return pageOf(
      rows,
      options.limit,
      (row) => row.position,
      (row) => toMemory(row, options.view),
    );
  // Roll deeper memories up into one prefix marker each (markers count toward the limit); one page holds them all.
  const items: (MemoryRecord | { type: 'memory_prefix'; path: string })[] = [];
  const seen = new Set<string>();
  for (const row of rows.sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const rest = row.path.slice(options.prefix.length).replace(/^\//, '');
    const slash = rest.indexOf('/');
    if (slash < 0) items.push(toMemory(row, options.view));
    else {
      const prefix = `${options.prefix.replace(/\/$/, '')}/${rest.slice(0, slash)}/`;
      if (!seen.has(prefix)) items.push({ type: 'memory_prefix', path: prefix });
      seen.add(prefix);
    }
  }
  return { data: items.slice(0, options.limit), next_page: null };
}

interface VersionFields {
  memoryId: string;
  operation: 'created' | 'modified' | 'deleted';
  path: string;
  content: string | null;
}

async function appendVersion(
  client: pg.PoolClient,
  tenantId: string,
  storeId: string,
  actor: MemoryActor,
  fields: VersionFields,
): Promise<string> {
  const id = makeId('memoryVersion', randomUUID());
  const content = fields.content;
  await client.query(
    `insert into memory_versions (id, tenant_id, memory_store_id, memory_id, operation, path, content, content_sha256,
       content_size_bytes, actor_api_key_id, actor_session_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      id,
      tenantId,
      storeId,
      fields.memoryId,
      fields.operation,
      fields.path,
      content,
      content === null ? null : sha256Hex(content),
      content === null ? null : Buffer.byteLength(content, 'utf8'),
      actor.type === 'api_actor' ? actor.api_key_id : null,
      actor.type === 'session_actor' ? actor.session_id : null,
    ],
  );
  return id;
}

/** The store locked for writing; 404 (undefined) when absent, 409 when archived. */
async function writableStore(client: pg.PoolClient, tenantId: string, storeId: string): Promise<boolean> {
  const store = await lockMemoryStore(client, tenantId, storeId);
  if (!store) return false;
  if (store.archived_at) throw new MemoryConflictError('conflict_error', `memory store ${storeId} is archived`);
  return true;
}

/** Refuses a path that another memory holds or overlaps (an ancestor or descendant of it). */
async function assertPathFree(client: pg.PoolClient, storeId: string, path: string, exceptId?: string) {
  const { rows } = await client.query<{ id: string; path: string }>(
    `select id, path from memories where memory_store_id = $1 and id <> $3
     and (path = $2 or starts_with(path, $2 || '/') or starts_with($2, path || '/')) limit 1`,
    [storeId, path, exceptId ?? ''],
  );
  const taken = rows[0];
  if (taken && (taken.path === path || pathsOverlap(taken.path, path))) {
    throw new MemoryConflictError('memory_path_conflict_error', `the path ${path} conflicts with ${taken.path}`, {
      path: taken.path,
      memoryId: taken.id,
    });
  }
}

async function insertMemory(
  client: pg.PoolClient,
  tenantId: string,
  storeId: string,
  fields: { path: string; content: string },
  actor: MemoryActor,
  memoryId = makeId('memory', randomUUID()),
): Promise<MemoryRow> {
  await assertPathFree(client, storeId, fields.path);
  const versionId = await appendVersion(client, tenantId, storeId, actor, {
    memoryId,
    operation: 'created',
    ...fields,
  });
  const { rows } = await client.query<MemoryRow>(
    `insert into memories (id, tenant_id, memory_store_id, path, content, content_sha256, content_size_bytes,
       memory_version_id) values ($1, $2, $3, $4, $5, $6, $7, $8) returning *`,
    [
      memoryId,
      tenantId,
      storeId,
      fields.path,
      fields.content,
      sha256Hex(fields.content),
      Buffer.byteLength(fields.content, 'utf8'),
      versionId,
    ],
  );
  return rows[0] as MemoryRow;
}

/** Changes a live memory's content and/or path; no version when nothing changes. */
async function modifyMemory(
  client: pg.PoolClient,
  tenantId: string,
  current: MemoryRow,
  change: { path?: string; content?: string },
  actor: MemoryActor,
): Promise<MemoryRow> {
  const path = change.path ?? current.path;
  const content = change.content ?? current.content;
  if (path === current.path && content === current.content) return current;
  if (path !== current.path) await assertPathFree(client, current.memory_store_id, path, current.id);
  const versionId = await appendVersion(client, tenantId, current.memory_store_id, actor, {
    memoryId: current.id,
    operation: 'modified',
    path,
    content,
  });
  const { rows } = await client.query<MemoryRow>(
    `update memories set path = $2, content = $3, content_sha256 = $4, content_size_bytes = $5,
       memory_version_id = $6, updated_at = now() where id = $1 returning *`,
    [current.id, path, content, sha256Hex(content), Buffer.byteLength(content, 'utf8'), versionId],
  );
  return rows[0] as MemoryRow;
}

async function removeMemory(client: pg.PoolClient, tenantId: string, current: MemoryRow, actor: MemoryActor) {
  await appendVersion(client, tenantId, current.memory_store_id, actor, {
    memoryId: current.id,
    operation: 'deleted',
    path: current.path,
    content: null,
  });
  await client.query('delete from memories where id = $1', [current.id]);
}

export async function createMemory(
  pool: pg.Pool,
  tenantId: string,
  storeId: string,
  fields: { path: string; content: string },
  actor: MemoryActor,
  id?: string,
): Promise<MemoryRow | undefined> {
  return withTransaction(pool, async (client) =>
    (await writableStore(client, tenantId, storeId))
      ? insertMemory(client, tenantId, storeId, fields, actor, id)
      : undefined,
  );
}

/** Undefined when the store or memory is absent; a 409 when `expectedSha256` no longer holds. */
export async function updateMemory(
  pool: pg.Pool,
  tenantId: string,
  ids: { storeId: string; memoryId: string },
  change: { path?: string; content?: string; expectedSha256?: string },
  actor: MemoryActor,
): Promise<MemoryRow | undefined> {
  return withTransaction(pool, async (client) => {
    if (!(await writableStore(client, tenantId, ids.storeId))) return undefined;
    const current = await getMemory(client, ids.storeId, ids.memoryId);
    if (!current) return undefined;
    const unchanged =
      (change.path ?? current.path) === current.path && (change.content ?? current.content) === current.content;
    if (change.expectedSha256 !== undefined && change.expectedSha256 !== current.content_sha256 && !unchanged) {
      throw new MemoryConflictError(
        'memory_precondition_failed_error',
        'the memory changed: its content_sha256 differs',
      );
    }
    return modifyMemory(client, tenantId, current, change, actor);
  });
}

/** False when the store or memory is absent; a 409 when `expectedSha256` no longer holds. */
export async function deleteMemory(
  pool: pg.Pool,
  tenantId: string,
  ids: { storeId: string; memoryId: string },
  expectedSha256: string | undefined,
  actor: MemoryActor,
): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const store = await lockMemoryStore(client, tenantId, ids.storeId);
    const current = store ? await getMemory(client, ids.storeId, ids.memoryId) : undefined;
    if (!current) return false;
    if (expectedSha256 !== undefined && expectedSha256 !== current.content_sha256) {
      throw new MemoryConflictError(
        'memory_precondition_failed_error',
        'the memory changed: its content_sha256 differs',
      );
    }
    await removeMemory(client, tenantId, current, actor);
    return true;
  });
}

/** What a session's sync did with one file (see activities/sandbox/session-memory.ts). */
export type SyncedWrite = { kind: 'written'; row: MemoryRow; conflict: boolean } | SyncedDelete;
export type SyncedDelete = { kind: 'deleted' | 'kept' | 'skipped'; reason?: string };

/**
 * A session's write of `content` at `path`, made against `baseVersionId` (the version it was given, or none for a new
 * file). The live memory at the path is updated (or created); when it has moved on from the base since the mount,
 * the write is still recorded, as one more version on top of the other writer's (`conflict`): never lost, never
 * silently replacing history.
 */
export async function syncMemoryWrite(
  pool: pg.Pool,
  tenantId: string,
  storeId: string,
  write: { path: string; content: string; baseVersionId: string | undefined },
  actor: MemoryActor,
): Promise<SyncedWrite> {
  return withTransaction(pool, async (client) => {
    const store = await lockMemoryStore(client, tenantId, storeId);
    if (!store || store.archived_at) return { kind: 'skipped', reason: 'the store is gone or archived' };
    const { rows } = await client.query<MemoryRow>('select * from memories where memory_store_id = $1 and path = $2', [
      storeId,
      write.path,
    ]);
    const current = rows[0];
    try {
      if (!current)
        return { kind: 'written', row: await insertMemory(client, tenantId, storeId, write, actor), conflict: false };
      const conflict = current.memory_version_id !== write.baseVersionId;
      return { kind: 'written', row: await modifyMemory(client, tenantId, current, write, actor), conflict };
    } catch (error) {
      if (error instanceof MemoryConflictError) return { kind: 'skipped', reason: error.message };
      throw error;
    }
  });
}

/** A session deleted the file at `path`: the memory goes only if nobody changed it since the mount. */
export async function syncMemoryDelete(
  pool: pg.Pool,
  tenantId: string,
  storeId: string,
  remove: { path: string; baseVersionId: string },
  actor: MemoryActor,
): Promise<SyncedDelete> {
  return withTransaction(pool, async (client) => {
    const store = await lockMemoryStore(client, tenantId, storeId);
    if (!store || store.archived_at) return { kind: 'skipped', reason: 'the store is gone or archived' };
    const { rows } = await client.query<MemoryRow>('select * from memories where memory_store_id = $1 and path = $2', [
      storeId,
      remove.path,
    ]);
    const current = rows[0];
    if (!current) return { kind: 'deleted' };
    if (current.memory_version_id !== remove.baseVersionId) return { kind: 'kept', reason: 'changed since the mount' };
    await removeMemory(client, tenantId, current, actor);
    return { kind: 'deleted' };
  });
}

/** Every live memory of a store, with content (what a mount writes). */
export async function memoriesOfStore(db: Queryable, storeId: string): Promise<MemoryRow[]> {
  const { rows } = await db.query<MemoryRow>('select * from memories where memory_store_id = $1 order by path', [
    storeId,
  ]);
  return rows;
}

/**
 * Applies a batch of writes (content, or null to delete) to a store inside the caller's transaction, the store locked
 * first: a dream's result lands whole or not at all. A write whose path overlaps another memory is skipped (returned).
 */
export async function applyMemoryWrites(
  client: pg.PoolClient,
  tenantId: string,
  storeId: string,
  writes: { path: string; content: string | null }[],
  actor: MemoryActor,
): Promise<string[]> {
  await lockMemoryStore(client, tenantId, storeId);
  const skipped: string[] = [];
  for (const write of writes) {
    const { rows } = await client.query<MemoryRow>('select * from memories where memory_store_id = $1 and path = $2', [
      storeId,
      write.path,
    ]);
    const current = rows[0];
    try {
      await client.query('savepoint memory_write');
      if (write.content === null) {
        if (current) await removeMemory(client, tenantId, current, actor);
      } else if (current) await modifyMemory(client, tenantId, current, { content: write.content }, actor);
      else await insertMemory(client, tenantId, storeId, { path: write.path, content: write.content }, actor);
      await client.query('release savepoint memory_write');
    } catch (error) {
      if (!(error instanceof MemoryConflictError)) throw error;
      await client.query('rollback to savepoint memory_write');
      skipped.push(`${write.path}: ${error.message}`);
    }
  }
  return skipped;
}
