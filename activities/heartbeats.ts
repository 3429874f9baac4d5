// How activities heartbeat. The SDK's core sends an attempt's first heartbeat to the Temporal server at once and
// throttles later ones (workers/bootstrap.ts: heartbeatThrottle); each one sent is an RPC and a write of the activity's
// state on the server. Most model and tool calls last 10–100 ms, so a heartbeat at their start bought the heartbeat
// timeout nothing and cost the server a write per call: activities heartbeat on a timer instead, from their first
// second on. Heartbeats prove the worker alive; cancellation (an interrupt) comes back in their answers.

/** The first heartbeat this long into the work, then one as often (the SDK sends at most one per throttle interval). */
export const heartbeatIntervalMs = 1_000;

/**
 * What a model call's heartbeats carry. A heartbeat timeout reports the details of the attempt's last recorded
 * heartbeat, so with a detail "none recorded" is told from "recorded, without details". Besides the timer's, a model
 * call heartbeats once just before its provider request goes out (activities/model/provider-call.ts): with none
 * recorded, no worker sent the request, and the workflow retries the call without announcing a failure
 * (workflows/model-call.ts); a worker that dies after sending it is announced as before.
 */
export const runningHeartbeatDetail = 'running';

/** Runs `work`, calling `beat` every second from its first second on: nothing for work that ends sooner. */
export async function heartbeating<T>(beat: () => void, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(beat, heartbeatIntervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
