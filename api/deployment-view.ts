// Deployment and run rows as the API answers them (the SDK's BetaManagedAgentsDeployment / …DeploymentRun).
import type { DeploymentRunRow } from '../db/repositories/deployment-runs.ts';
import type { DeploymentRow } from '../db/repositories/deployments.ts';
import { isoOrNull } from '../db/repositories/pagination.ts';

export interface ScheduleTimes {
  lastRunAt: string | null;
  upcoming: string[];
}

export function deploymentResponse(row: DeploymentRow, times: ScheduleTimes) {
  return {
    id: row.id,
    type: 'deployment' as const,
    name: row.name,
    description: row.description,
    agent: { type: 'agent' as const, id: row.agent_id, version: row.agent_version },
    environment_id: row.environment_id,
    initial_events: row.initial_events,
    resources: row.resources,
    vault_ids: row.vault_ids,
    budget: (row.budget ?? null) as never,
    metadata: row.metadata,
    schedule: row.schedule
      ? { ...row.schedule, last_run_at: times.lastRunAt, upcoming_runs_at: row.archived_at ? [] : times.upcoming }
      : null,
    status: row.paused_reason ? ('paused' as const) : ('active' as const),
    paused_reason: row.paused_reason,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    archived_at: isoOrNull(row.archived_at),
  };
}

export function runResponse(row: DeploymentRunRow) {
  return {
    id: row.id,
    type: 'deployment_run' as const,
    deployment_id: row.deployment_id,
    agent: { type: 'agent' as const, id: row.agent_id, version: row.agent_version },
    trigger_context: row.trigger_context,
    session_id: row.session_id,
    error: row.error,
    created_at: row.created_at.toISOString(),
  };
}
