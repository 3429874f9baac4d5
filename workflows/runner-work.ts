// A self-hosted session's side of the work queue. Built-in tool calls are published as `agent.tool_use` and wait, in
// the session's pending actions, for the runner's `user.tool_result` (a signal: the wait is durable, whichever runner
// answers). While any such call is open the session makes sure a work item hands it to a runner; a runner that dies
// loses its lease and the item goes to the next poll. An `always_ask` call first waits for the user's confirmation,
// which the runner also reads before it runs the call.
import type { PendingAction, SessionWorkflowInput } from '../domain/session.ts';
import { workQueueActivities } from './activity-proxies.ts';
import type { ToolCall } from './tool-execution.ts';

export type Resolution = { allow: boolean; denyMessage?: string } | { custom: true };
export interface PendingEntry extends PendingAction {
  resolution?: Resolution;
  call: ToolCall;
}

export class RunnerWork {
  private readonly input: SessionWorkflowInput;

  constructor(input: SessionWorkflowInput) {
    this.input = input;
  }

  /** Queues a work item for the session unless one is open (idempotent). */
  async ensureQueued(): Promise<void> {
    await workQueueActivities.queueSessionWork({
      tenantId: this.input.tenantId,
      environmentId: this.input.environment.id,
      sessionId: this.input.sessionId,
    });
  }
}

/** The pending entry of a runner call awaiting its result. */
export const awaitingRunner = (call: ToolCall): PendingEntry => ({
  eventId: call.eventId,
  kind: 'tool_result',
  name: call.name,
  call,
});

/** Runner calls the user allowed now await the runner, which runs them once it reads the confirmation. */
export function handConfirmedCallsToRunner(pending: Map<string, PendingEntry>): number {
  let handed = 0;
  for (const entry of [...pending.values()]) {
    const resolution = entry.resolution;
    if (entry.call.route.kind !== 'runner' || entry.kind !== 'confirmation') continue;
    if (resolution && 'allow' in resolution && resolution.allow) {
      pending.set(entry.eventId, awaitingRunner(entry.call));
      handed++;
    }
  }
  return handed;
}
