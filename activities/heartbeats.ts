// How activities heartbeat. The SDK's core sends an attempt's first heartbeat to the Temporal server at once and
// throttles later ones (workers/bootstrap.ts: heartbeatThrottle); each one sent is an RPC and a write of the activity's
// state on the server. Most model and tool calls last 10–100 ms, so a heartbeat at their start bought the heartbeat
// timeout nothing and cost the server a write per call: activities heartbeat on a timer instead, from their first
// second on. Heartbeats prove the worker alive; cancellation (an interrupt) comes back in their answers.
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

/** The first heartbeat this long into the work, then one as often (the SDK sends at most one per throttle interval). */
export const heartbeatIntervalMs = 1_000;

/**
 * What a model call's heartbeats carry. A heartbeat timeout reports the details of the attempt's last recorded
 * heartbeat, so with a detail "none recorded" is told from "recorded, without details". Besides the timer's, a model
 * call records one heartbeat when it starts and awaits the server's answer before its provider request goes out
 * (activities/model/provider-call.ts): with none recorded, no worker got the call, and the workflow retries it without
 * announcing a failure (workflows/model-call.ts); a worker that dies after that is announced as before.
 */
export const runningHeartbeatDetail = 'running';

/** Records an activity attempt's heartbeat on the server and resolves once it is stored. */
export type AttemptRecorder = (taskToken: Uint8Array) => Promise<void>;

type HeartbeatService = Pick<temporal.api.workflowservice.v1.WorkflowService, 'recordActivityTaskHeartbeat'>;

/**
 * An AttemptRecorder on the worker's own connection. The SDK's `heartbeat()` hands the heartbeat to its core, which
 * sends it some time later and never says when it is stored: a worker killed just after its request went out could
 * leave no heartbeat behind (CI saw that), and the call would be taken for one no worker got. This RPC's answer is
 * the proof. Its detail is the constant `runningHeartbeatDetail` in plain JSON: nothing to encrypt, and every codec
 * decodes a plain payload as it is.
 */
export function attemptRecorder(service: HeartbeatService, namespace: string): AttemptRecorder {
  const details = { payloads: [defaultPayloadConverter.toPayload(runningHeartbeatDetail)] };
  return async (taskToken) => {
    await service.recordActivityTaskHeartbeat({ namespace, taskToken, details });
  };
}

/** Runs `work`, calling `beat` every second from its first second on: nothing for work that ends sooner. */
export async function heartbeating<T>(beat: () => void, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(beat, heartbeatIntervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
