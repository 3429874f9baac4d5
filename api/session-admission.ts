// Whether a tenant may start one more running session (its `max_running_sessions`, counted in Temporal's visibility
// store as the API's quota does for a message that would start an idle session). A deployment run asks before it
// creates a session that starts running at once; a refusal is the run's `session_rate_limited_error`.
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { getTenant } from '../db/repositories/tenants.ts';
import { limitDefaults, type PlatformConfig } from '../domain/config.ts';
import { effectiveTenantLimits } from '../domain/tenant-limits.ts';

/** Answers undefined when admitted, else why not. */
export type SessionAdmission = (tenantId: string) => Promise<string | undefined>;

export function sessionAdmission(pool: pg.Pool, client: Client, config: PlatformConfig): SessionAdmission {
  const defaults = limitDefaults(config);
  return async (tenantId) => {
    const tenant = await getTenant(pool, tenantId);
    const max = effectiveTenantLimits(defaults, tenant?.limits ?? {}).max_running_sessions;
    if (max === 0) return undefined;
    const { count } = await client.workflow.count(
      `WorkflowType = 'sessionWorkflow' AND ExecutionStatus = 'Running' AND TenantId = '${tenantId}' ` +
        `AND SessionStatus IN ('running', 'rescheduling')`,
    );
    return count >= max ? `this tenant may run ${max} sessions at once (${count} running)` : undefined;
  };
}
