// Session threads other than the primary (the coordinator's delegations): written by the primary thread's workflow
// (idempotent by thread id) before it starts the thread; read by the threads API; archived by it.
import type pg from 'pg';
import type { AgentSnapshot } from '../../domain/agent.ts';
import type { InlineAgentView } from '../../domain/inline-agents.ts';
import { cursorCondition, pageOfRows, type ListOptions, type Page } from './pagination.ts';

export interface NewSessionThread {
  id: string;
  sessionId: string;
  tenantId: string;
  parentThreadId: string;
  agentName: string;
  /** The roster agent's snapshot, or an inline agent's definition. */
  agent: AgentSnapshot | InlineAgentView;
  /** The workflow run that started the thread, if one did. */
  workflowRunId?: string;
}

export interface SessionThreadRow {
  id: string;
  session_id: string;
  position: string;
  parent_thread_id: string;
  agent_name: string;
  agent: AgentSnapshot | InlineAgentView;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
  workflow_run_id: string | null;
}

export async function insertSessionThread(pool: pg.Pool, thread: NewSessionThread): Promise<void> {
  await pool.query(
    `insert into session_threads (id, session_id, tenant_id, parent_thread_id, agent_name, agent, workflow_run_id)
     values ($1, $2, $3, $4, $5, $6, $7) on conflict (id) do nothing`,
    [
      thread.id,
      thread.sessionId,
      thread.tenantId,
      thread.parentThreadId,
      thread.agentName,
      thread.agent,
      thread.workflowRunId ?? null,
    ],
  );
}

const columns =
  'id, session_id, position, parent_thread_id, agent_name, agent, created_at, updated_at, archived_at, workflow_run_id';

export async function getSessionThread(
  pool: pg.Pool,
  sessionId: string,
  threadId: string,
): Promise<SessionThreadRow | undefined> {
  const { rows } = await pool.query<SessionThreadRow>(
    `select ${columns} from session_threads where session_id = $1 and id = $2`,
    [sessionId, threadId],
  );
  return rows[0];
}

export async function listSessionThreads(
  pool: pg.Pool,
  sessionId: string,
  options: ListOptions,
): Promise<Page<SessionThreadRow>> {
  const cursor = cursorCondition('position', options, 3);
  const { rows } = await pool.query<SessionThreadRow>(
    `select ${columns} from session_threads where session_id = $1 and ${cursor.sql}
     order by position ${options.order === 'asc' ? 'asc' : 'desc'} limit $2`,
    [sessionId, options.limit + 1, ...cursor.params],
  );
  return pageOfRows(rows, options.limit);
}

/** Ids of every thread of the session (its usage includes theirs). */
export async function sessionThreadIds(pool: pg.Pool, sessionId: string): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>('select id from session_threads where session_id = $1', [
    sessionId,
  ]);
  return rows.map((row) => row.id);
}

export async function markSessionThreadArchived(
  pool: pg.Pool,
  sessionId: string,
  threadId: string,
): Promise<SessionThreadRow | undefined> {
  const { rows } = await pool.query<SessionThreadRow>(
    `update session_threads set archived_at = coalesce(archived_at, now()), updated_at = now()
     where session_id = $1 and id = $2 returning ${columns}`,
    [sessionId, threadId],
  );
  return rows[0];
}
