// Deployment runs: an append-only record of each firing — the session it created or the error that stopped it.
// Written idempotently (the run id is decided before the first attempt), so a retried firing records one run.
import type pg from 'pg';
import type { RunError, TriggerContext } from '../../domain/deployments.ts';
import { createdRangeCondition, cursorCondition, pageOfRows, type CreatedRange, type Page } from './pagination.ts';

export interface DeploymentRunRow {
  id: string;
  tenant_id: string;
  deployment_id: string;
  position: string;
  agent_id: string;
  agent_version: number;
  trigger_type: 'schedule' | 'manual';
  trigger_context: TriggerContext;
  scheduled_at: Date | null;
  session_id: string | null;
  error: RunError | null;
  created_at: Date;
}

export interface NewDeploymentRun {
  id: string;
  deploymentId: string;
  agentId: string;
  agentVersion: number;
  trigger: TriggerContext;
}

/** Records a run's start; returns the run already recorded under this id or scheduled instant, if any. */
export async function insertRun(pool: pg.Pool, tenantId: string, run: NewDeploymentRun): Promise<DeploymentRunRow> {
  const scheduledAt = run.trigger.type === 'schedule' ? run.trigger.scheduled_at : null;
  const { rows } = await pool.query<DeploymentRunRow>(
    `insert into deployment_runs (id, tenant_id, deployment_id, agent_id, agent_version, trigger_type, trigger_context,
       scheduled_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing returning *`,
    [
      run.id,
      tenantId,
      run.deploymentId,
      run.agentId,
      run.agentVersion,
      run.trigger.type,
      JSON.stringify(run.trigger),
      scheduledAt,
    ],
  );
  if (rows[0]) return rows[0];
  const existing = await pool.query<DeploymentRunRow>(
    `select * from deployment_runs where id = $1 or (deployment_id = $2 and scheduled_at = $3::timestamptz)
     order by position limit 1`,
    [run.id, run.deploymentId, scheduledAt],
  );
  return existing.rows[0] as DeploymentRunRow;
}

/** Records the outcome: the session created, or the error. */
export async function completeRun(
  pool: pg.Pool,
  runId: string,
  outcome: { sessionId: string | null; error: RunError | null },
): Promise<DeploymentRunRow> {
  const { rows } = await pool.query<DeploymentRunRow>(
    'update deployment_runs set session_id = $2, error = $3 where id = $1 returning *',
    [runId, outcome.sessionId, outcome.error ? JSON.stringify(outcome.error) : null],
  );
  return rows[0] as DeploymentRunRow;
}

export async function getRun(pool: pg.Pool, tenantId: string, id: string): Promise<DeploymentRunRow | undefined> {
  const { rows } = await pool.query<DeploymentRunRow>(
    'select * from deployment_runs where tenant_id = $1 and id = $2',
    [tenantId, id],
  );
  return rows[0];
}

export interface RunListFilter extends CreatedRange {
  limit: number;
  page?: string;
  deploymentId?: string;
  triggerType?: 'schedule' | 'manual';
  hasError?: boolean;
}

/** Newest first. */
export async function listRuns(
  pool: pg.Pool,
  tenantId: string,
  filter: RunListFilter,
): Promise<Page<DeploymentRunRow>> {
  const created = createdRangeCondition('created_at', filter, 5);
  const cursor = cursorCondition('position', { limit: filter.limit, page: filter.page, order: 'desc' }, 9);
  const { rows } = await pool.query<DeploymentRunRow>(
    `select * from deployment_runs
     where tenant_id = $1 and ($2::text is null or deployment_id = $2) and ($3::text is null or trigger_type = $3)
       and ($4::boolean is null or (error is not null) = $4) and ${created.sql} and ${cursor.sql}
     order by position desc limit ${filter.limit + 1}`,
    [
      tenantId,
      filter.deploymentId ?? null,
      filter.triggerType ?? null,
      filter.hasError ?? null,
      ...created.params,
      ...cursor.params,
    ],
  );
  return pageOfRows(rows, filter.limit);
}
