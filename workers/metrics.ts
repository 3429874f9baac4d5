// Worker metrics: Temporal's core runtime exports its own series (task slots, poll and schedule-to-start latencies,
// activity and workflow task outcomes, sticky cache, request failures…) on a Prometheus endpoint of the process,
// at http://AGENTS_METRICS_HOST:AGENTS_METRICS_PORT/metrics. Every series carries the process's worker family as
// `agents_worker`, so the session, model and sandbox fleets can be told apart.
import type { TelemetryOptions } from '@temporalio/worker';
import type { PlatformConfig } from '../domain/config.ts';

/** Series every worker exports once it has polled (README "Metrics"). */
export const workerMetricNames = {
  pollSuccesses: 'temporal_workflow_task_queue_poll_succeed',
  slotsAvailable: 'temporal_worker_task_slots_available',
  requests: 'temporal_request',
  activityExecutionLatency: 'temporal_activity_execution_latency',
  workflowTaskExecutionLatency: 'temporal_workflow_task_execution_latency',
} as const;

/** The metrics part of Runtime.install's telemetry options; undefined when the port is 0 (no endpoint). */
export function workerMetricsOptions(
  config: Pick<PlatformConfig, 'AGENTS_METRICS_PORT' | 'AGENTS_METRICS_HOST'>,
  workerFamily: string,
): TelemetryOptions['metrics'] {
  if (config.AGENTS_METRICS_PORT === 0) return undefined;
  return {
    prometheus: {
      bindAddress: `${config.AGENTS_METRICS_HOST}:${config.AGENTS_METRICS_PORT}`,
      useSecondsForDurations: true,
    },
    globalTags: { agents_worker: workerFamily },
  };
}
