// A Docker daemon that is restarting or down is an outage, not a failed operation. An activity that meets one waits,
// heartbeating, until the daemon answers again and only then fails (retryably), so Temporal's next attempt meets the
// daemon's new state: the container still there, or gone (then the session recreates it from its snapshot). Without
// the wait, a few quick attempts (1 s … 8 s apart) would be spent during an ordinary dockerd restart, and the tool
// call, snapshot or removal would fail for good.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import type Docker from 'dockerode';
import { statusOf } from './docker-errors.ts';

export interface DaemonOutageOptions {
  docker: Docker;
  /** Called while waiting, so the activity's heartbeat timeout does not fire. */
  heartbeat: () => void;
  /** How long one attempt waits for the daemon before failing anyway (Temporal then retries). */
  maxWaitMs: number;
  pollMs?: number;
  /** Told once per outage, with the error that revealed it. */
  onOutage?: (message: string) => void;
}

/** The failure type of an attempt that met a daemon outage (retryable). */
export const daemonUnreachableFailureType = 'DockerDaemonUnreachable';

// dockerode's ping takes an abort signal (lib/docker.js), which its type declarations leave out.
type PingWithSignal = (options: { abortSignal: AbortSignal }) => Promise<unknown>;

/** True when the daemon answers a ping within a couple of seconds. */
export async function daemonAnswers(docker: Docker, timeoutMs = 2_000): Promise<boolean> {
  try {
    await (docker.ping.bind(docker) as unknown as PingWithSignal)({ abortSignal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  }
}

/**
 * When `error` came from an unreachable daemon (no HTTP answer and no answer to a ping), waits until the daemon
 * answers again (or maxWaitMs passes) and returns a retryable failure to throw instead; otherwise undefined.
 */
export async function daemonOutageFailure(
  error: unknown,
  options: DaemonOutageOptions,
): Promise<ApplicationFailure | undefined> {
  // An HTTP status means the daemon answered; other errors (PostgreSQL, our own) are told apart by the ping.
  if (statusOf(error) !== undefined || error instanceof ApplicationFailure) return undefined;
  if (await daemonAnswers(options.docker)) return undefined;
  const cause = error instanceof Error ? error.message : String(error);
  options.onOutage?.(`Docker daemon unreachable (${cause}); waiting up to ${options.maxWaitMs} ms for it`);
  const deadline = Date.now() + options.maxWaitMs;
  let back = false;
  while (!back && Date.now() < deadline) {
    options.heartbeat();
    await sleep(options.pollMs ?? 500);
    back = await daemonAnswers(options.docker);
  }
  return ApplicationFailure.retryable(
    back
      ? `Docker daemon was unreachable (${cause}); it answers again, so the operation is retried`
      : `Docker daemon still unreachable after ${options.maxWaitMs} ms (${cause})`,
    daemonUnreachableFailureType,
  );
}
