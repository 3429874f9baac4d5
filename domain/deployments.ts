// Deployments: an agent version bound to an environment and initial events, fired by a Temporal Schedule or on demand.
// Shapes shared by the API (which manages schedules and runs manual firings), the run workflow and its activity.

/** Workflow type the schedule's action starts; one short run per firing. */
export const deploymentRunWorkflowType = 'deploymentRunWorkflow';

/** The Temporal Schedule of a deployment: readable in `temporal schedule list` and Temporal UI. */
export const deploymentScheduleId = (deploymentId: string): string => `deployment-${deploymentId}`;

/** Workflow id prefix of scheduled runs; Temporal appends the scheduled time (`…-2026-11-28T18:00:00Z`). */
export const deploymentRunWorkflowId = (deploymentId: string): string => `deployment-run-${deploymentId}`;

export interface CronSchedule {
  type: 'cron';
  expression: string;
  timezone: string;
}

export type TriggerContext =
  | { type: 'schedule'; scheduled_at: string }
  // `source` (extension): what asked for a manual run — the run endpoint or the deployment's trigger URL.
  | { type: 'manual'; source?: 'api' | 'trigger_url' };

/** Run error types of Anthropic's API that this platform can produce. */
export const runErrorTypes = [
  'agent_archived_error',
  'environment_archived_error',
  'environment_not_found_error',
  'vault_not_found_error',
  'vault_archived_error',
  'file_not_found_error',
  'session_rate_limited_error',
  'session_creation_rejected_error',
  'unknown_error',
] as const;
export type RunErrorType = (typeof runErrorTypes)[number];

export interface RunError {
  type: RunErrorType;
  message: string;
}

/** A scheduled firing that fails with one of these pauses the deployment (paused_reason `error`): firing again would
 * fail the same way until someone fixes the reference. Rate limits and rejections are transient, so they do not. */
export const autoPausingRunErrors: ReadonlySet<RunErrorType> = new Set([
  'agent_archived_error',
  'environment_archived_error',
  'environment_not_found_error',
  'vault_not_found_error',
  'vault_archived_error',
  'file_not_found_error',
  'unknown_error',
]);

/** Thrown by session creation when a referenced resource makes the session impossible; a run records it. */
export interface SessionPreconditionFailure {
  runErrorType: RunErrorType;
  message: string;
}

export const isSessionPreconditionFailure = (error: unknown): error is SessionPreconditionFailure =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as { runErrorType?: unknown }).runErrorType === 'string' &&
  (runErrorTypes as readonly string[]).includes((error as { runErrorType: string }).runErrorType);

/** Input of one firing, as the schedule's action (or a retry) passes it. */
export interface DeploymentRunWorkflowInput {
  tenantId: string;
  deploymentId: string;
}

/** What the run activity needs: ids decided by the workflow, so a retried activity creates nothing twice. */
export interface DeploymentRunRequest {
  tenantId: string;
  deploymentId: string;
  runId: string;
  sessionId: string;
  trigger: TriggerContext;
  /** Extra user events after the deployment's initial events (the trigger URL's request body). */
  extraEvents?: unknown[];
}

export interface DeploymentRunOutcome {
  runId: string;
  sessionId: string | null;
  error: RunError | null;
}

/** 5-field POSIX cron (minute hour day-of-month month day-of-week); no seconds, years, L/W/#/? or @shortcuts. */
const cronPart = /^(\*|(\d{1,2})(?:-(\d{1,2}))?)(?:\/(\d{1,2}))?$/;
const fieldRanges: Array<[number, number]> = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

/** Why a cron expression is unacceptable, or undefined. `allowSeconds` admits a leading seconds field (tests only). */
export function cronProblem(expression: string, allowSeconds = false): string | undefined {
  const fields = expression.trim().split(/\s+/);
  const ranges = allowSeconds && fields.length === 6 ? [[0, 59] as [number, number], ...fieldRanges] : fieldRanges;
  if (fields.length !== ranges.length) return 'expected 5 fields: minute hour day-of-month month day-of-week';
  for (const [index, field] of fields.entries()) {
    const [min, max] = ranges[index]!;
    for (const part of field.split(',')) {
      const match = cronPart.exec(part);
      if (!match) return `unsupported cron field ${JSON.stringify(field)}`;
      const bounds = [match[2], match[3]].filter((value) => value !== undefined).map(Number);
      if (bounds.some((value) => value < min || value > max)) return `cron field ${JSON.stringify(field)} out of range`;
      if (match[4] !== undefined && Number(match[4]) === 0) return 'cron step must be at least 1';
    }
  }
  return undefined;
}

/** Temporal's cron string for a deployment's expression: 5 fields as they are; 6 (seconds first) → Temporal's 7. */
export const temporalCronString = (expression: string): string => {
  const fields = expression.trim().split(/\s+/);
  return fields.length === 6 ? `${fields.join(' ')} *` : fields.join(' ');
};

export function timezoneProblem(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return undefined;
  } catch {
    return `unknown IANA timezone ${JSON.stringify(timezone)}`;
  }
}
