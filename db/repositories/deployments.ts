// Deployments: the API's record of each one (its schedule lives in Temporal as `deployment-<id>`).
import type pg from 'pg';
import type { Queryable } from '../queryable.ts';
import type { CronSchedule } from '../../domain/deployments.ts';
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

export type PausedReason = { type: 'manual' } | { type: 'error'; error: { type: string } };

export interface DeploymentFields {
  name: string;
  description: string | null;
  agentId: string;
  agentVersion: number;
  environmentId: string;
  initialEvents: unknown[];
  resources: unknown[];
  vaultIds: string[];
  budget: unknown;
  metadata: Metadata;
  schedule: CronSchedule | null;
}

export interface DeploymentRow {
  id: string;
  tenant_id: string;
  position: string;
  name: string;
  description: string | null;
  agent_id: string;
  agent_version: number;
  environment_id: string;
  initial_events: unknown[];
  resources: unknown[];
  vault_ids: string[];
  budget: unknown;
  metadata: Metadata;
  schedule: CronSchedule | null;
  paused_reason: PausedReason | null;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

const columns = (fields: DeploymentFields): unknown[] => [
  fields.name,
  fields.description,
  fields.agentId,
  fields.agentVersion,
  fields.environmentId,
  JSON.stringify(fields.initialEvents),
  JSON.stringify(fields.resources),
  fields.vaultIds,
  fields.budget === null || fields.budget === undefined ? null : JSON.stringify(fields.budget),
  fields.metadata,
  fields.schedule ? JSON.stringify(fields.schedule) : null,
];

export async function insertDeployment(
  db: Queryable,
  tenantId: string,
  id: string,
  fields: DeploymentFields,
): Promise<DeploymentRow> {
  const { rows } = await db.query<DeploymentRow>(
    `insert into deployments (id, tenant_id, name, description, agent_id, agent_version, environment_id, initial_events,
       resources, vault_ids, budget, metadata, schedule)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning *`,
    [id, tenantId, ...columns(fields)],
  );
  return rows[0] as DeploymentRow;
}

const deployments = tenantTable<DeploymentRow, DeploymentRow>({ table: 'deployments', toRecord: (row) => row });

export const getDeployment = (pool: pg.Pool, tenantId: string, id: string): Promise<DeploymentRow | undefined> =>
  deployments.get(pool, { tenant_id: tenantId, id });

export async function updateDeployment(
  db: Queryable,
  tenantId: string,
  id: string,
  fields: DeploymentFields,
): Promise<DeploymentRow | undefined> {
  const { rows } = await db.query<DeploymentRow>(
    `update deployments set name = $3, description = $4, agent_id = $5, agent_version = $6, environment_id = $7,
       initial_events = $8, resources = $9, vault_ids = $10, budget = $11, metadata = $12, schedule = $13,
       updated_at = now()
     where tenant_id = $1 and id = $2 returning *`,
    [tenantId, id, ...columns(fields)],
  );
  return rows[0];
}

/** Sets (or clears, with null) why the deployment is paused. */
export async function setPausedReason(
  db: Queryable,
  tenantId: string,
  id: string,
  reason: PausedReason | null,
): Promise<DeploymentRow | undefined> {
  const { rows } = await db.query<DeploymentRow>(
    `update deployments set paused_reason = $3, updated_at = now() where tenant_id = $1 and id = $2 returning *`,
    [tenantId, id, reason ? JSON.stringify(reason) : null],
  );
  return rows[0];
}

export const archiveDeployment = (db: Queryable, tenantId: string, id: string): Promise<DeploymentRow | undefined> =>
  deployments.archive(db, { tenant_id: tenantId, id });

export interface DeploymentListFilter extends ListOptions, Pick<CreatedRange, 'createdGte' | 'createdLte'> {
  status?: 'active' | 'paused';
  agentId?: string;
}

export async function listDeployments(
  pool: pg.Pool,
  tenantId: string,
  filter: DeploymentListFilter,
): Promise<Page<DeploymentRow>> {
  const created = createdRangeCondition('created_at', filter, 5);
  const cursor = cursorCondition('position', { ...filter, order: 'desc' }, 9);
  const { rows } = await pool.query<DeploymentRow>(
    `select * from deployments
     where tenant_id = $1 and ($2 or archived_at is null)
       and ($3::text is null or ($3 = 'paused') = (paused_reason is not null))
       and ($4::text is null or agent_id = $4) and ${created.sql} and ${cursor.sql}
     order by position desc limit ${filter.limit + 1}`,
    [
      tenantId,
      filter.includeArchived ?? false,
      filter.status ?? null,
      filter.agentId ?? null,
      ...created.params,
      ...cursor.params,
    ],
  );
  return pageOfRows(rows, filter.limit);
}

/** When each deployment's latest scheduled run started (manual runs do not count). */
export async function lastScheduledRunAt(pool: pg.Pool, deploymentIds: string[]): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ deployment_id: string; last: Date }>(
    `select deployment_id, max(created_at) as last from deployment_runs
     where deployment_id = any($1) and trigger_type = 'schedule' group by deployment_id`,
    [deploymentIds],
  );
  return new Map(rows.map((row) => [row.deployment_id, isoOrNull(row.last) ?? '']));
}
