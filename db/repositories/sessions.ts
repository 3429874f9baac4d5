// Session rows: ownership, listing and what was pinned at creation. Live state (status, usage) comes from the
// session's workflow and its event journal; see session-events.ts.
import type pg from 'pg';
import type { Queryable } from '../queryable.ts';
import type { AgentSnapshot } from '../../domain/agent.ts';
import { journalStatusSql } from './session-events.ts';
import {
  createdRangeCondition,
  cursorCondition,
  isoOrNull,
  pageOfRows,
  type CreatedRange,
  type ListOptions,
  type Metadata,
  type Page,
} from './pagination.ts';
import { tenantTable } from './tenant-table.ts';

export interface SessionRow {
  id: string;
  tenant_id: string;
  position: string;
  agent_id: string;
  agent_version: number;
  agent_snapshot: AgentSnapshot;
  environment_id: string;
  title: string | null;
  metadata: Metadata;
  vault_ids: string[];
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

export interface NewSession {
  id: string;
  agentId: string;
  agentVersion: number;
  agentSnapshot: AgentSnapshot;
  environmentId: string;
  title: string | null;
  metadata: Metadata;
  vaultIds: string[];
}

export async function insertSession(db: Queryable, tenantId: string, session: NewSession): Promise<SessionRow> {
  const { rows } = await db.query<SessionRow>(
    `insert into sessions (id, tenant_id, agent_id, agent_version, agent_snapshot, environment_id, title, metadata, vault_ids)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning *`,
    [
      session.id,
      tenantId,
      session.agentId,
      session.agentVersion,
      JSON.stringify(session.agentSnapshot),
      session.environmentId,
      session.title,
      session.metadata,
      session.vaultIds,
    ],
  );
  return rows[0] as SessionRow;
}

const sessions = tenantTable<SessionRow, SessionRow>({ table: 'sessions', toRecord: (row) => row });

/** Whether the session's pinned agent has this skill (what a self-hosted runner may download). */
export async function sessionPinsSkill(db: Queryable, tenantId: string, id: string, skillId: string): Promise<boolean> {
  const { rows } = await db.query(
    `select 1 from sessions where tenant_id = $1 and id = $2
     and agent_snapshot -> 'skills' @> jsonb_build_array(jsonb_build_object('skill_id', $3::text))`,
    [tenantId, id, skillId],
  );
  return rows.length > 0;
}

export const getSessionRow = (pool: pg.Pool, tenantId: string, id: string): Promise<SessionRow | undefined> =>
  sessions.get(pool, { tenant_id: tenantId, id });

export async function updateSessionRow(
  pool: pg.Pool,
  tenantId: string,
  id: string,
  fields: { title: string | null; metadata: Metadata },
): Promise<SessionRow | undefined> {
  const { rows } = await pool.query<SessionRow>(
    `update sessions set title = $3, metadata = $4, updated_at = now() where tenant_id = $1 and id = $2 returning *`,
    [tenantId, id, fields.title, fields.metadata],
  );
  return rows[0];
}

export const markSessionArchived = (pool: pg.Pool, tenantId: string, id: string): Promise<SessionRow | undefined> =>
  sessions.archive(pool, { tenant_id: tenantId, id });

export const deleteSessionRow = (pool: pg.Pool, tenantId: string, id: string): Promise<boolean> =>
  sessions.remove(pool, { tenant_id: tenantId, id });

export interface SessionListFilter extends ListOptions, CreatedRange {
  agentId?: string;
  agentVersion?: number;
  /** Filter on the status derived from the journal's latest `session.status_*` event (no event yet = idle). */
  statuses?: string[];
}

export async function listSessionRows(
  pool: pg.Pool,
  tenantId: string,
  filter: SessionListFilter,
): Promise<Page<SessionRow & { journal_status: string }>> {
  const order = filter.order ?? 'desc';
  const created = createdRangeCondition('s.created_at', filter, 5);
  const cursor = cursorCondition('s.position', { ...filter, order }, 11);
  const { rows } = await pool.query<SessionRow & { journal_status: string }>(
    `select * from (
       select s.*, ${journalStatusSql('s.id')} as journal_status from sessions s
       where s.tenant_id = $1 and ($2 or s.archived_at is null)
         and ($3::text is null or s.agent_id = $3) and ($4::int is null or s.agent_version = $4)
         and ${created.sql} and ${cursor.sql}
     ) s
     where ($9::text[] is null or s.journal_status = any($9))
     order by s.position ${order} limit $10`,
    [
      tenantId,
      filter.includeArchived ?? false,
      filter.agentId ?? null,
      filter.agentVersion ?? null,
      ...created.params,
      filter.statuses?.length ? filter.statuses : null,
      filter.limit + 1,
      ...cursor.params,
    ],
  );
  return pageOfRows(rows, filter.limit);
}

export async function journalStatusOf(pool: pg.Pool, sessionId: string): Promise<string> {
  const { rows } = await pool.query<{ status: string }>(`select ${journalStatusSql('$1')} as status`, [sessionId]);
  return rows[0]?.status ?? 'idle';
}

export { isoOrNull };

export async function listTenantSessionIds(pool: pg.Pool, tenantId: string): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>('select id from sessions where tenant_id = $1 order by position', [
    tenantId,
  ]);
  return rows.map((row) => row.id);
}
