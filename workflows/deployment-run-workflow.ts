// One firing of a deployment's schedule: decide the run's and the session's ids (deterministically, so retries and
// replays reuse them) and the scheduled instant, then let the activity create the session. A run error (archived
// agent, missing vault…) is the activity's result, recorded on the run; the workflow fails only if the platform stays
// unreachable for the whole retry window.
import { defineSearchAttributeKey } from '@temporalio/common';
import { proxyActivities, uuid4, workflowInfo } from '@temporalio/workflow';
import type { createDeploymentActivities } from '../activities/deployments/activities.ts';
import type { DeploymentRunOutcome, DeploymentRunWorkflowInput } from '../domain/deployments.ts';
import { makeId } from '../domain/ids.ts';

const { executeDeploymentRun } = proxyActivities<ReturnType<typeof createDeploymentActivities>>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Set by Temporal on every workflow a schedule starts: the instant the spec matched, before jitter. */
const scheduledStartTimeKey = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');

function scheduledAt(): string {
  const info = workflowInfo();
  const fromAttribute = info.typedSearchAttributes.get(scheduledStartTimeKey);
  if (fromAttribute) return fromAttribute.toISOString();
  // The schedule also appends the instant to the workflow id: `deployment-run-<id>-2026-11-28T18:00:00Z`.
  const suffix = /-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$/.exec(info.workflowId)?.[1];
  return suffix ? new Date(suffix).toISOString() : info.startTime.toISOString();
}

export async function deploymentRunWorkflow(input: DeploymentRunWorkflowInput): Promise<DeploymentRunOutcome | null> {
  return executeDeploymentRun({
    tenantId: input.tenantId,
    deploymentId: input.deploymentId,
    runId: makeId('deploymentRun', uuid4()),
    sessionId: makeId('session', uuid4()),
    trigger: { type: 'schedule', scheduled_at: scheduledAt() },
  });
}
