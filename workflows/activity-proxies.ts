// Activity proxies, one per timeout profile. Workflows import activity *types* only; the worker registers the real
// functions (activities/*). Model calls are not retried by Temporal here: the loop retries them itself so that each
// retry is announced in the event log (session.error retrying + session.status_rescheduled).
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { JournalActivities } from '../activities/store/journal-activities.ts';
import type { McpActivities } from '../activities/mcp/activities.ts';
import type { ModelActivities } from '../activities/model/activities.ts';
import type { SandboxActivities } from '../activities/sandbox/activities.ts';
import type { ThreadActivities } from '../activities/store/thread-activities.ts';
import type { WorkQueueActivities } from '../activities/store/work-queue-activities.ts';
import type { RegionActivities } from '../activities/store/region-activities.ts';
import { nonRetryableFailureTypes } from '../domain/errors.ts';
import type { BackendToolInput, BackendToolOutput } from '../domain/backend-tools.ts';
import type { SessionSettings } from '../domain/session.ts';
import { placedQueue, taskQueues, withPrefix } from '../domain/task-queues.ts';

export const journalActivities = proxyLocalActivities<JournalActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '100ms', maximumInterval: '5s', backoffCoefficient: 2 },
});

/** A self-hosted session's work item: queued on the session worker, which reaches PostgreSQL. */
export const workQueueActivities = proxyLocalActivities<WorkQueueActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '5s', backoffCoefficient: 2 },
});

/** Session threads are recorded on the session worker, which reaches PostgreSQL. */
export const threadActivities = proxyLocalActivities<ThreadActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '5s', backoffCoefficient: 2 },
});

/** Where a session in a region asks: the region's own model workers, without waiting for them long. */
export const defaultModelRegionWaitMs = 10_000;

/**
 * Model calls. A session placed in a region calls its region's model queue first; a call no worker there picks up in
 * `modelRegionWaitMs` fails (schedule-to-start) and the next attempt goes to the shared queue, which every region's
 * model workers poll too (`where: 'shared'`).
 */
export function modelActivities(settings: SessionSettings, where: 'placed' | 'shared' = 'placed') {
  const regional = settings.region !== undefined && where === 'placed';
  return proxyActivities<ModelActivities>({
    taskQueue: regional
      ? placedQueue(settings, taskQueues.model)
      : withPrefix(settings.taskQueuePrefix, taskQueues.model),
    ...(regional ? { scheduleToStartTimeout: settings.modelRegionWaitMs ?? defaultModelRegionWaitMs } : {}),
    startToCloseTimeout: settings.modelTimeoutMs,
    heartbeatTimeout: settings.modelHeartbeatTimeoutMs,
    retry: { maximumAttempts: 1 },
  });
}

/**
 * The grader and the summariser (model calls beside the agent's turn): retried by Temporal, not announced one by one —
 * their spans and events say what they did.
 */
/** A session placed in a region asks the session worker running it where its sandboxes go (region heartbeats). */
export const regionActivities = proxyLocalActivities<RegionActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '5s', backoffCoefficient: 2 },
});

export function modelSideActivities(settings: SessionSettings) {
  return proxyActivities<ModelActivities>({
    taskQueue: withPrefix(settings.taskQueuePrefix, taskQueues.model),
    startToCloseTimeout: settings.modelTimeoutMs,
    heartbeatTimeout: settings.modelHeartbeatTimeoutMs,
    retry: {
      initialInterval: settings.modelRetryInitialMs,
      maximumInterval: settings.modelRetryMaxMs,
      maximumAttempts: settings.modelMaxAttempts,
      nonRetryableErrorTypes: nonRetryableFailureTypes,
    },
  });
}

/**
 * Creation goes to the shared sandbox queue: any Docker host may take it. A session placed in a region creates on its
 * region's queue; a region whose sandbox workers are all gone never starts it, and the schedule-to-start timeout
 * sends the session elsewhere (workflows/sandbox-lease.ts).
 */
export function sandboxCreationActivities(settings: SessionSettings) {
  return proxyActivities<SandboxActivities>({
    taskQueue: placedQueue(settings, taskQueues.sandbox),
    ...(settings.region !== undefined ? { scheduleToStartTimeout: settings.sandboxHostTimeoutMs } : {}),
    startToCloseTimeout: '5m',
    heartbeatTimeout: settings.sandboxHeartbeatTimeoutMs,
    retry: {
      initialInterval: '1s',
      maximumInterval: '30s',
      maximumAttempts: 5,
      nonRetryableErrorTypes: nonRetryableFailureTypes,
    },
  });
}

/**
 * Every later operation goes to the queue of the host that holds the container. A host whose worker is gone never
 * starts the task: the schedule-to-start timeout tells the session to recreate the sandbox elsewhere.
 */
export function sandboxHostActivities(settings: SessionSettings, hostQueue: string) {
  return proxyActivities<SandboxActivities>({
    taskQueue: hostQueue,
    scheduleToStartTimeout: settings.sandboxHostTimeoutMs,
    startToCloseTimeout: settings.toolTimeoutMs + 60_000,
    heartbeatTimeout: settings.sandboxHeartbeatTimeoutMs,
    retry: {
      initialInterval: '1s',
      maximumInterval: '10s',
      maximumAttempts: 5,
      nonRetryableErrorTypes: nonRetryableFailureTypes,
    },
  });
}

/** A backend tool is an activity by name on the operator's own task queue. */
export function backendToolActivity(taskQueue: string, activity: string, timeoutSeconds: number) {
  const proxy = proxyActivities<Record<string, (input: BackendToolInput) => Promise<BackendToolOutput>>>({
    taskQueue,
    startToCloseTimeout: timeoutSeconds * 1000,
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: nonRetryableFailureTypes },
  });
  // A proxy answers every name; the index type just cannot say so.
  return proxy[activity] as (input: BackendToolInput) => Promise<BackendToolOutput>;
}

/** MCP listing and calls: a server that cannot be reached is retried (nothing ran); the rest is not (see errors.ts). */
export function mcpActivities(settings: SessionSettings) {
  return proxyActivities<McpActivities>({
    taskQueue: withPrefix(settings.taskQueuePrefix, taskQueues.mcp),
    startToCloseTimeout: (settings.mcpToolTimeoutMs ?? defaultMcpToolTimeoutMs) + 30_000,
    heartbeatTimeout: 15_000,
    retry: {
      initialInterval: '500ms',
      maximumInterval: '5s',
      maximumAttempts: 3,
      nonRetryableErrorTypes: nonRetryableFailureTypes,
    },
  });
}

export const defaultMcpToolTimeoutMs = 60_000;
