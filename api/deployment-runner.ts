// One firing of a deployment, however it was triggered (its schedule through the run workflow's activity, the run
// endpoint, the trigger URL): record the run, create the session through the same path as POST /v1/sessions, and
// record either the session or the error. Errors the API would answer with a 4xx (an archived agent, a missing vault)
// are the run's outcome, not a failure of the schedule; anything else (PostgreSQL or Temporal out of reach) throws, so
// the activity retries it. Ids come from the caller, so a retried firing records one run and creates one session.
import type pg from 'pg';
import { completeRun, insertRun, type DeploymentRunRow } from '../db/repositories/deployment-runs.ts';
import { getDeployment, setPausedReason } from '../db/repositories/deployments.ts';
import {
  autoPausingRunErrors,
  isSessionPreconditionFailure,
  type DeploymentRunRequest,
  type RunError,
} from '../domain/deployments.ts';
import type { DeploymentSchedules } from './deployment-schedules.ts';
import type { SessionAdmission } from './session-admission.ts';
import { createSession, type SessionCreationDeps } from './session-creation.ts';

/** Announces platform events (webhooks); a no-op where none are configured. */
export type PlatformEventSink = (tenantId: string, type: string, subjectId: string, eventKey?: string) => Promise<void>;

export interface DeploymentRunnerDeps {
  pool: pg.Pool;
  sessions: SessionCreationDeps;
  schedules: DeploymentSchedules;
  emit: PlatformEventSink;
  /** The tenant's running-sessions quota; a refusal is the run's session_rate_limited_error. */
  admit?: SessionAdmission;
}

const rateLimited = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 8;

/** Runs a deployment once; undefined when the deployment no longer exists (a schedule outliving its row). */
export async function runDeployment(
  deps: DeploymentRunnerDeps,
  request: DeploymentRunRequest,
): Promise<DeploymentRunRow | undefined> {
  const { pool } = deps;
  const deployment = await getDeployment(pool, request.tenantId, request.deploymentId);
  if (!deployment) return undefined;
  const run = await insertRun(pool, request.tenantId, {
    id: request.runId,
    deploymentId: deployment.id,
    agentId: deployment.agent_id,
    agentVersion: deployment.agent_version,
    trigger: request.trigger,
  });
  // A retried firing whose run was already completed only repeats the announcements (idempotent by event key).
  if (run.session_id || run.error) return announce(deps, request, run);
  await deps.emit(request.tenantId, 'deployment_run.started', run.id, `${run.id}:started`);

  let outcome: { sessionId: string | null; error: RunError | null };
  const refusal = await deps.admit?.(request.tenantId);
  if (refusal) {
    outcome = { sessionId: null, error: { type: 'session_rate_limited_error', message: refusal } };
    return announce(deps, request, await completeRun(pool, run.id, outcome));
  }
  try {
    const session = await createSession(deps.sessions, request.tenantId, {
      agent: { id: deployment.agent_id, version: deployment.agent_version },
      environmentId: deployment.environment_id,
      title: deployment.name,
      metadata: deployment.metadata,
      vaultIds: deployment.vault_ids,
      resources: deployment.resources as Array<{ type: string }>,
      initialEvents: [...deployment.initial_events, ...(request.extraEvents ?? [])] as never,
      sessionId: request.sessionId,
    });
    outcome = { sessionId: session.id, error: null };
  } catch (error) {
    if (isSessionPreconditionFailure(error)) {
      outcome = { sessionId: null, error: { type: error.runErrorType, message: error.message } };
    } else if (rateLimited(error)) {
      outcome = { sessionId: null, error: { type: 'session_rate_limited_error', message: 'too many sessions' } };
    } else {
      throw error;
    }
  }
  return announce(deps, request, await completeRun(pool, run.id, outcome));
}

async function announce(
  deps: DeploymentRunnerDeps,
  request: DeploymentRunRequest,
  run: DeploymentRunRow,
): Promise<DeploymentRunRow> {
  const { tenantId } = request;
  if (!run.error) {
    await deps.emit(tenantId, 'deployment_run.succeeded', run.id, `${run.id}:succeeded`);
    return run;
  }
  await deps.emit(tenantId, 'deployment_run.failed', run.id, `${run.id}:failed`);
  if (request.trigger.type === 'schedule' && autoPausingRunErrors.has(run.error.type)) {
    const reason = { type: 'error' as const, error: { type: run.error.type } };
    await setPausedReason(deps.pool, tenantId, run.deployment_id, reason);
    await deps.schedules.pause(run.deployment_id, `paused after a failed run: ${run.error.type}`);
    await deps.emit(tenantId, 'deployment.paused', run.deployment_id, `${run.id}:paused`);
  }
  return run;
}
