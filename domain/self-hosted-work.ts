// The work queue of a self-hosted environment, as Anthropic's API defines it (SDK `beta.environments.work`): a work
// item hands one session to a runner the customer operates. States: queued → starting (acknowledged) → active (first
// heartbeat) → stopping (graceful stop asked) → stopped. A lease lapses when no heartbeat renews it within its TTL;
// the item is then queued again for the next poll.

export const workStates = ['queued', 'starting', 'active', 'stopping', 'stopped'] as const;
export type WorkState = (typeof workStates)[number];

/** The literal a runner sends as `expected_last_heartbeat` before its first heartbeat. */
export const noHeartbeat = 'NO_HEARTBEAT';

/** How long an item polled but not acknowledged stays with its poller before another poll may take it (API default). */
export const defaultReclaimAfterMs = 5_000;

/** The longest a poll may block (the API caps `block_ms` at 999). */
export const maxPollBlockMs = 999;

/** The lease as the server holds it (the body of a 412 on a stale heartbeat, and of every heartbeat answer). */
export interface WorkLeaseState {
  state: WorkState;
  last_heartbeat: string | null;
  lease_extended: boolean;
  ttl_seconds: number;
}
