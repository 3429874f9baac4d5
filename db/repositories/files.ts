// Uploaded files (kept in PostgreSQL; small by the API's body limit) and the session resources that reference them.
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Queryable } from '../queryable.ts';
import { makeId } from '../../domain/ids.ts';
import type { RepositoryCheckout } from '../../domain/session-resources.ts';
import type { ListOptions, Page } from './pagination.ts';
import { tenantTable } from './tenant-table.ts';

export interface FileRecord {
  id: string;
  type: 'file';
  filename: string;
  mime_type: string;
  size_bytes: number;
  created_at: string;
  downloadable: boolean;
  scope: { id: string; type: 'session' } | null;
}

interface FileRow {
  id: string;
  position: string;
  filename: string;
  mime_type: string;
  size_bytes: string;
  scope_session_id: string | null;
  created_at: Date;
}

const fileColumns = 'id, position, filename, mime_type, size_bytes, scope_session_id, created_at';

const toFile = (row: FileRow): FileRecord => ({
  id: row.id,
  type: 'file',
  filename: row.filename,
  mime_type: row.mime_type,
  size_bytes: Number(row.size_bytes),
  created_at: row.created_at.toISOString(),
  downloadable: true,
  scope: row.scope_session_id ? { id: row.scope_session_id, type: 'session' } : null,
});

const files = tenantTable({ table: 'files', toRecord: toFile, columns: fileColumns, archivable: false });

export async function createFile(
  pool: pg.Pool,
  tenantId: string,
  file: { filename: string; mimeType: string; data: Buffer },
  id = makeId('file', randomUUID()),
): Promise<FileRecord> {
  const { rows } = await pool.query<FileRow>(
    `insert into files (id, tenant_id, filename, mime_type, size_bytes, data) values ($1, $2, $3, $4, $5, $6)
     returning ${fileColumns}`,
    [id, tenantId, file.filename, file.mimeType, file.data.length, file.data],
  );
  return toFile(rows[0] as FileRow);
}

export const getFile = (pool: pg.Pool, tenantId: string, id: string): Promise<FileRecord | undefined> =>
  files.get(pool, { tenant_id: tenantId, id });

export async function getFileContent(
  pool: pg.Pool,
  tenantId: string,
  id: string,
): Promise<{ data: Buffer; mimeType: string; filename: string } | undefined> {
  const { rows } = await pool.query<{ data: Buffer; mime_type: string; filename: string }>(
    'select data, mime_type, filename from files where tenant_id = $1 and id = $2',
    [tenantId, id],
  );
  const row = rows[0];
  return row ? { data: row.data, mimeType: row.mime_type, filename: row.filename } : undefined;
}

export const deleteFile = (pool: pg.Pool, tenantId: string, id: string): Promise<boolean> =>
  files.remove(pool, { tenant_id: tenantId, id });

export const listFiles = (
  pool: pg.Pool,
  tenantId: string,
  options: ListOptions & { scopeId?: string },
): Promise<Page<FileRecord>> =>
  files.list(
    pool,
    options.scopeId === undefined
      ? { tenant_id: tenantId }
      : { tenant_id: tenantId, scope_session_id: options.scopeId },
    options,
  );

// ---- session resources ---------------------------------------------------------------------------------------------

interface ResourceTimes {
  id: string;
  mount_path: string;
  created_at: string;
  updated_at: string;
}

export type FileResourceRecord = ResourceTimes & { type: 'file'; file_id: string };

/** A memory store attached to a session; name and description as they were at attach time. */
export type MemoryStoreResourceRecord = Omit<ResourceTimes, 'mount_path'> & {
  type: 'memory_store';
  /** Null in a self-hosted environment: the runner keeps the store in its workdir (domain/memory.ts runnerMemoryPath). */
  mount_path: string | null;
  memory_store_id: string;
  access: 'read_write' | 'read_only';
  instructions: string | null;
  name: string;
  description: string;
};

/** A repository (db/repositories/repository-resources.ts); its token never leaves the row. */
export type RepositoryResourceRecord = ResourceTimes & {
  type: 'github_repository';
  url: string;
  checkout: RepositoryCheckout | null;
};

export type SessionResourceRecord = FileResourceRecord | MemoryStoreResourceRecord | RepositoryResourceRecord;

export interface ResourceRow {
  id: string;
  position: string;
  type: SessionResourceRecord['type'];
  file_id: string | null;
  url: string | null;
  checkout: RepositoryCheckout | null;
  mount_path: string | null;
  memory_store_id: string | null;
  access: 'read_write' | 'read_only' | null;
  instructions: string | null;
  name: string | null;
  description: string | null;
  created_at: Date;
  updated_at: Date;
}

export function toResource(row: ResourceRow): SessionResourceRecord {
  const times = {
    id: row.id,
    // Null only for a memory store of a self-hosted session.
    mount_path: row.mount_path ?? '',
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
  if (row.type === 'memory_store') {
    return {
      ...times,
      mount_path: row.mount_path,
      type: 'memory_store',
      memory_store_id: row.memory_store_id ?? '',
      access: row.access ?? 'read_write',
      instructions: row.instructions,
      name: row.name ?? '',
      description: row.description ?? '',
    };
  }
  if (row.type === 'github_repository') {
    return { ...times, type: 'github_repository', url: row.url ?? '', checkout: row.checkout };
  }
  return { ...times, type: 'file', file_id: row.file_id ?? '' };
}

/** Every column but a repository's sealed token. */
export const resourceColumns =
  'id, position, type, file_id, url, checkout, mount_path, memory_store_id, access, instructions, name, ' +
  'description, created_at, updated_at';

const resources = tenantTable({
  table: 'session_resources',
  toRecord: toResource,
  columns: resourceColumns,
  archivable: false,
});

export async function addSessionResource(
  db: Queryable,
  tenantId: string,
  sessionId: string,
  resource: { fileId: string; mountPath: string },
): Promise<SessionResourceRecord> {
  const { rows } = await db.query<ResourceRow>(
    `insert into session_resources (id, tenant_id, session_id, type, file_id, mount_path)
     values ($1, $2, $3, 'file', $4, $5) returning ${resourceColumns}`,
    [makeId('sessionResource', randomUUID()), tenantId, sessionId, resource.fileId, resource.mountPath],
  );
  return toResource(rows[0] as ResourceRow);
}

/** Attaches a memory store (the store's name and description are snapshotted with it). */
export async function addSessionMemoryStore(
  db: Queryable,
  tenantId: string,
  sessionId: string,
  resource: Omit<MemoryStoreResourceRecord, 'id' | 'type' | 'created_at' | 'updated_at'>,
): Promise<SessionResourceRecord> {
  const { rows } = await db.query<ResourceRow>(
    `insert into session_resources (id, tenant_id, session_id, type, memory_store_id, access, instructions, name,
       description, mount_path) values ($1, $2, $3, 'memory_store', $4, $5, $6, $7, $8, $9) returning ${resourceColumns}`,
    [
      makeId('sessionResource', randomUUID()),
      tenantId,
      sessionId,
      resource.memory_store_id,
      resource.access,
      resource.instructions,
      resource.name,
      resource.description,
      resource.mount_path,
    ],
  );
  return toResource(rows[0] as ResourceRow);
}

/** Which of `ids` are this tenant's files. */
export async function existingFileIds(db: Queryable, tenantId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>('select id from files where tenant_id = $1 and id = any($2)', [
    tenantId,
    ids,
  ]);
  return new Set(rows.map((row) => row.id));
}

export async function listSessionResources(
  pool: pg.Pool,
  tenantId: string,
  sessionIds: string[],
): Promise<Map<string, SessionResourceRecord[]>> {
  const bySession = new Map<string, SessionResourceRecord[]>();
  if (sessionIds.length === 0) return bySession;
  const { rows } = await pool.query<ResourceRow & { session_id: string }>(
    `select session_id, ${resourceColumns} from session_resources where tenant_id = $1 and session_id = any($2)
     order by position`,
    [tenantId, sessionIds],
  );
  for (const row of rows) {
    const list = bySession.get(row.session_id) ?? [];
    list.push(toResource(row));
    bySession.set(row.session_id, list);
  }
  return bySession;
}

export const getSessionResource = (
  pool: pg.Pool,
  tenantId: string,
  sessionId: string,
  id: string,
): Promise<SessionResourceRecord | undefined> =>
  resources.get(pool, { tenant_id: tenantId, session_id: sessionId, id });

export const deleteSessionResource = (
  pool: pg.Pool,
  tenantId: string,
  sessionId: string,
  id: string,
): Promise<boolean> => resources.remove(pool, { tenant_id: tenantId, session_id: sessionId, id });

export const pageSessionResources = (
  pool: pg.Pool,
  tenantId: string,
  sessionId: string,
  options: ListOptions,
): Promise<Page<SessionResourceRecord>> =>
  resources.list(pool, { tenant_id: tenantId, session_id: sessionId }, { ...options, order: 'asc' });

// ---- files in the sandbox ------------------------------------------------------------------------------------------

/**
 * Records one file the agent wrote under the outputs folder as a session-scoped file. The same path with the same
 * content is recorded once (a retried capture adds nothing); changed content is a new file. Returns whether it was new.
 */
export async function saveSessionOutput(
  pool: pg.Pool,
  owner: { tenantId: string; sessionId: string },
  output: { path: string; mimeType: string; data: Buffer },
): Promise<boolean> {
  const sha256 = createHash('sha256').update(output.data).digest('hex');
  const result = await pool.query(
    `insert into files (id, tenant_id, filename, mime_type, size_bytes, data, scope_session_id, output_path,
       content_sha256) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     on conflict (tenant_id, scope_session_id, output_path, content_sha256) where output_path is not null do nothing`,
    [
      makeId('file', randomUUID()),
      owner.tenantId,
      output.path,
      output.mimeType,
      output.data.length,
      output.data,
      owner.sessionId,
      output.path,
      sha256,
    ],
  );
  return (result.rowCount ?? 0) > 0;
}
