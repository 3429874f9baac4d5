// Memory versions: the history of every memory in a store (written by memories.ts), listed, read and redacted here.
// Redaction clears a version's content, path, size and hash for good and keeps the record of who changed what, when.
import type pg from 'pg';
import { MemoryConflictError } from '../../domain/memory.ts';
import { withTransaction } from '../transaction.ts';
import { lockMemoryStore } from './memory-stores.ts';
import type { MemoryActor, MemoryView } from './memories.ts';
import {
  createdRangeCondition,
  cursorCondition,
  isoOrNull,
  pageOf,
  type ListOptions,
  type Page,
} from './pagination.ts';
import { redactTextInDreamConversations } from './dream-conversations.ts';
import { redactTextInSessionEvents } from './session-events.ts';
import { memoryRedactionsChannel } from './session-memory-mounts.ts';

export interface MemoryVersionRecord {
  id: string;
  type: 'memory_version';
  memory_id: string;
  memory_store_id: string;
  operation: 'created' | 'modified' | 'deleted';
  content: string | null;
  content_sha256: string | null;
  content_size_bytes: number | null;
  path: string | null;
  created_at: string;
  created_by: MemoryActor | null;
  redacted_at: string | null;
  redacted_by: MemoryActor | null;
}

interface VersionRow {
  id: string;
  position: string;
  memory_id: string;
  memory_store_id: string;
  operation: 'created' | 'modified' | 'deleted';
  path: string | null;
  content: string | null;
  content_sha256: string | null;
  content_size_bytes: number | null;
  actor_api_key_id: string | null;
  actor_session_id: string | null;
  created_at: Date;
  redacted_at: Date | null;
  redacted_by_api_key_id: string | null;
}

const actorOf = (apiKeyId: string | null, sessionId: string | null): MemoryActor | null => {
  if (sessionId) return { type: 'session_actor', session_id: sessionId };
  if (apiKeyId) return { type: 'api_actor', api_key_id: apiKeyId };
  return null;
};

const toVersion = (row: VersionRow, view: MemoryView): MemoryVersionRecord => ({
  id: row.id,
  type: 'memory_version',
  memory_id: row.memory_id,
  memory_store_id: row.memory_store_id,
  operation: row.operation,
  content: view === 'full' ? row.content : null,
  content_sha256: row.content_sha256,
  content_size_bytes: row.content_size_bytes,
  path: row.path,
  created_at: row.created_at.toISOString(),
  created_by: actorOf(row.actor_api_key_id, row.actor_session_id),
  redacted_at: isoOrNull(row.redacted_at),
  redacted_by: actorOf(row.redacted_by_api_key_id, null),
});

export interface VersionFilter {
  memoryId?: string;
  operation?: 'created' | 'modified' | 'deleted';
  apiKeyId?: string;
  sessionId?: string;
  createdGte?: string;
  createdLte?: string;
}

/** A page of a store's versions, newest first. */
export async function listMemoryVersions(
  pool: pg.Pool,
  storeId: string,
  options: ListOptions & VersionFilter & { view: MemoryView },
): Promise<Page<MemoryVersionRecord>> {
  const range = createdRangeCondition(
    'created_at',
    { createdGte: options.createdGte, createdLte: options.createdLte },
    7,
  );
  const cursor = cursorCondition('position', { ...options, order: 'desc' }, 11);
  const { rows } = await pool.query<VersionRow>(
    `select * from memory_versions where memory_store_id = $1
       and ($3::text is null or memory_id = $3) and ($4::text is null or operation = $4)
       and ($5::text is null or actor_api_key_id = $5) and ($6::text is null or actor_session_id = $6)
       and ${range.sql} and ${cursor.sql}
     order by position desc limit $2`,
    [
      storeId,
      options.limit + 1,
      options.memoryId ?? null,
      options.operation ?? null,
      options.apiKeyId ?? null,
      options.sessionId ?? null,
      ...range.params,
      ...cursor.params,
    ],
  );
  return pageOf(
    rows,
    options.limit,
    (row) => row.position,
    (row) => toVersion(row, options.view),
  );
}

export async function getMemoryVersion(
  pool: pg.Pool,
  storeId: string,
  id: string,
  view: MemoryView,
): Promise<MemoryVersionRecord | undefined> {
  const { rows } = await pool.query<VersionRow>(
    'select * from memory_versions where memory_store_id = $1 and id = $2',
    [storeId, id],
  );
  return rows[0] ? toVersion(rows[0], view) : undefined;
}

const redactedMark = '[redacted]';

/**
 * Redacts a version: its content, path, size and hash are cleared in the versions table, the content is replaced
 * wherever it appears in the events of the sessions that had the store attached (an agent that wrote or read it through
 * a tool) and in the conversations of running dreams that read or write the store, and the sandbox hosts are told to
 * take it out of the sandboxes that mounted it. The version that is a live memory's current content cannot be
 * redacted: update or delete the memory first
 * (a 409). Undefined when the store or version is absent.
 */
export async function redactMemoryVersion(
  pool: pg.Pool,
  tenantId: string,
  ids: { storeId: string; versionId: string },
  actor: { api_key_id: string },
): Promise<MemoryVersionRecord | undefined> {
  return withTransaction(pool, async (client) => {
    if (!(await lockMemoryStore(client, tenantId, ids.storeId))) return undefined;
    const { rows } = await client.query<VersionRow>(
      'select * from memory_versions where memory_store_id = $1 and id = $2 for update',
      [ids.storeId, ids.versionId],
    );
    const version = rows[0];
    if (!version) return undefined;
    if (version.redacted_at) return toVersion(version, 'full');
    const live = await client.query('select 1 from memories where memory_version_id = $1', [version.id]);
    if ((live.rowCount ?? 0) > 0) {
      throw new MemoryConflictError(
        'conflict_error',
        `memory version ${version.id} is the current content of memory ${version.memory_id}: update or delete it first`,
      );
    }
    const updated = await client.query<VersionRow>(
      `update memory_versions set content = null, path = null, content_sha256 = null, content_size_bytes = null,
         redacted_at = now(), redacted_by_api_key_id = $2 where id = $1 returning *`,
      [version.id, actor.api_key_id || null],
    );
    if (version.content) {
      const { rows: sessions } = await client.query<{ session_id: string }>(
        `select distinct session_id from session_resources where tenant_id = $1 and memory_store_id = $2`,
        [tenantId, ids.storeId],
      );
      const texts = [version.content, version.content.trim()].filter(
        (text, index, all) => text.length >= 8 && all.indexOf(text) === index,
      );
      await redactTextInSessionEvents(
        client,
        sessions.map((row) => row.session_id),
        texts,
        redactedMark,
      );
      await redactTextInDreamConversations(client, ids.storeId, texts, redactedMark);
      // Delivered at commit: the sandbox hosts then take the content out of the sandboxes that mounted it.
      await client.query('select pg_notify($1, $2)', [memoryRedactionsChannel, ids.storeId]);
    }
    return toVersion(updated.rows[0] as VersionRow, 'full');
  });
}
