// What a session's sandbox was given of its memory stores: per mounted path, the memory version it had. A sync
// compares the sandbox's files with these rows to find the agent's own changes, and tells a conflict (the memory moved
// on since the mount) from a plain update. Rows hold hashes and ids, never content.
import type pg from 'pg';
import type { Queryable } from '../queryable.ts';
import type { MemoryRow } from './memories.ts';

export interface MountedStore {
  memoryStoreId: string;
  access: 'read_write' | 'read_only';
  mountPath: string;
}

export interface MountBase {
  path: string;
  memoryId: string;
  memoryVersionId: string;
  contentSha256: string;
}

/** The memory stores attached to a session, in attach order. */
export async function sessionMemoryStores(db: Queryable, tenantId: string, sessionId: string): Promise<MountedStore[]> {
  const { rows } = await db.query<{ memory_store_id: string; access: string | null; mount_path: string }>(
    `select memory_store_id, access, mount_path from session_resources
     where tenant_id = $1 and session_id = $2 and type = 'memory_store' order by position`,
    [tenantId, sessionId],
  );
  return rows.map((row) => ({
    memoryStoreId: row.memory_store_id,
    access: row.access === 'read_only' ? 'read_only' : 'read_write',
    mountPath: row.mount_path,
  }));
}

/** How the store is attached to the session, or undefined when it is not (what a runner's sessions token may do). */
export async function sessionMemoryAccess(
  db: Queryable,
  tenantId: string,
  sessionId: string,
  storeId: string,
): Promise<MountedStore['access'] | undefined> {
  const stores = await sessionMemoryStores(db, tenantId, sessionId);
  return stores.find((store) => store.memoryStoreId === storeId)?.access;
}

/** A fresh mount of one store: its bases become exactly the memories written into the sandbox. */
export async function resetMountBases(
  pool: pg.Pool,
  owner: { tenantId: string; sessionId: string },
  storeId: string,
  memories: MemoryRow[],
): Promise<void> {
  await pool.query('delete from session_memory_mounts where session_id = $1 and memory_store_id = $2', [
    owner.sessionId,
    storeId,
  ]);
  if (memories.length === 0) return;
  await pool.query(
    `insert into session_memory_mounts (tenant_id, session_id, memory_store_id, path, memory_id, memory_version_id,
       content_sha256) select $1, $2, $3, unnest($4::text[]), unnest($5::text[]), unnest($6::text[]), unnest($7::text[])`,
    [
      owner.tenantId,
      owner.sessionId,
      storeId,
      memories.map((memory) => memory.path),
      memories.map((memory) => memory.id),
      memories.map((memory) => memory.memory_version_id),
      memories.map((memory) => memory.content_sha256),
    ],
  );
}

export async function mountBases(db: Queryable, sessionId: string, storeId: string): Promise<Map<string, MountBase>> {
  const { rows } = await db.query<{
    path: string;
    memory_id: string;
    memory_version_id: string;
    content_sha256: string;
  }>('select * from session_memory_mounts where session_id = $1 and memory_store_id = $2', [sessionId, storeId]);
  return new Map(
    rows.map((row) => [
      row.path,
      {
        path: row.path,
        memoryId: row.memory_id,
        memoryVersionId: row.memory_version_id,
        contentSha256: row.content_sha256,
      },
    ]),
  );
}

/** After a synced write: the sandbox's file now stands for this version. */
export async function advanceMountBase(
  db: Queryable,
  owner: { tenantId: string; sessionId: string },
  storeId: string,
  memory: MemoryRow,
): Promise<void> {
  await db.query(
    `insert into session_memory_mounts (tenant_id, session_id, memory_store_id, path, memory_id, memory_version_id,
       content_sha256) values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (session_id, memory_store_id, path) do update set memory_id = excluded.memory_id,
       memory_version_id = excluded.memory_version_id, content_sha256 = excluded.content_sha256`,
    [owner.tenantId, owner.sessionId, storeId, memory.path, memory.id, memory.memory_version_id, memory.content_sha256],
  );
}

export async function dropMountBase(db: Queryable, sessionId: string, storeId: string, path: string): Promise<void> {
  await db.query('delete from session_memory_mounts where session_id = $1 and memory_store_id = $2 and path = $3', [
    sessionId,
    storeId,
    path,
  ]);
}

/** A mounted file whose version was redacted since the mount: the sandbox may still hold the redacted content. */
export interface RedactedMountBase extends MountBase {
  memoryStoreId: string;
  mountPath: string;
}

/** NOTIFY channel of redactions: sandbox hosts scrub the redacted content from the sandboxes that mounted it. */
export const memoryRedactionsChannel = 'memory_redactions';

/** The session's mounted files that stand for a version redacted since (see activities/sandbox/memory-redaction.ts). */
export async function redactedMountBases(db: Queryable, sessionId: string): Promise<RedactedMountBase[]> {
  const { rows } = await db.query<{
    memory_store_id: string;
    mount_path: string;
    path: string;
    memory_id: string;
    memory_version_id: string;
    content_sha256: string;
  }>(
    `select m.memory_store_id, r.mount_path, m.path, m.memory_id, m.memory_version_id, m.content_sha256
     from session_memory_mounts m
     join memory_versions v on v.id = m.memory_version_id
     join session_resources r on r.session_id = m.session_id and r.memory_store_id = m.memory_store_id
       and r.type = 'memory_store'
     where m.session_id = $1 and v.redacted_at is not null`,
    [sessionId],
  );
  return rows.map((row) => ({
    memoryStoreId: row.memory_store_id,
    mountPath: row.mount_path,
    path: row.path,
    memoryId: row.memory_id,
    memoryVersionId: row.memory_version_id,
    contentSha256: row.content_sha256,
  }));
}
