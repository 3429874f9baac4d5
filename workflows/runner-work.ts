// A self-hosted session's side of the work queue. Built-in tool calls are published as `agent.tool_use` and wait, in
// the session's pending actions, for the runner's `user.tool_result` (a signal: the wait is durable, whichever runner
// answers). While any such call is open the session makes sure a work item hands it to a runner; a runner that dies
// loses its lease and the item goes to the next poll. An `always_ask` call first waits for the user's confirmation,
// which the runner also reads before it runs the call.
import { patched } from '@temporalio/workflow';
import type { UserEvent } from '../domain/events.ts';
import type { PendingAction, SessionWorkflowInput } from '../domain/session.ts';
import { isSandboxToolName } from '../domain/sandbox.ts';
import { checkToolInput } from '../domain/tools/tool-definition.ts';
import { runnerTools } from '../domain/tools/runner-tools.ts';
import { workQueueActivities } from './activity-proxies.ts';
import type { EventJournal } from './event-journal.ts';
import type { ToolCall } from './tool-execution.ts';

export type Resolution = { allow: boolean; denyMessage?: string } | { custom: true; text: string; isError: boolean };

/** What an answer resolves a pending action with (a custom tool's result keeps its text for in-sandbox harnesses). */
export function resolutionOf(event: UserEvent): Resolution {
  if (event.type === 'user.tool_confirmation')
    return { allow: event.result === 'allow', denyMessage: event.deny_message };
  const content = 'content' in event && Array.isArray(event.content) ? event.content : [];
  const text = content.map((block) => (block.type === 'text' ? block.text : '')).join('');
  return { custom: true, text, isError: 'is_error' in event && event.is_error === true };
}
export interface PendingEntry extends PendingAction {
  resolution?: Resolution;
  call: ToolCall;
}

export class RunnerWork {
  private readonly input: SessionWorkflowInput;
  private readonly journal: EventJournal;

  constructor(input: SessionWorkflowInput, journal: EventJournal) {
    this.input = input;
    this.journal = journal;
  }

  /**
   * At the start of each turn (the session created with a message, or woken after dormancy) a runner is asked for
   * before the first tool call, so its poll, lease and history read overlap the model call. Not at bare creation: the
   * official runner serves one item at a time and only lets go of it once a turn has ended, so an item for a session
   * that has not yet had a turn would hold a runner until it does.
   */
  async queueAtTurnStart(): Promise<void> {
    if (this.input.environment.selfHosted && patched(queueAtTurnStartPatch)) await this.ensureQueued();
  }

  /**
   * Queues a work item for the session unless one is open (idempotent). Under the patch the journal's pending write
   * goes first: two local activities in flight at once could complete in either order, and a replay would then
   * resume the loop at a different point than the run did.
   */
  async ensureQueued(): Promise<void> {
    if (patched(queueAtTurnStartPatch)) await this.journal.flushed();
    await workQueueActivities.queueSessionWork({
      tenantId: this.input.tenantId,
      environmentId: this.input.environment.id,
      sessionId: this.input.sessionId,
    });
  }

  /** See invalidRunnerInput. */
  invalidInput(call: ToolCall): string | undefined {
    return invalidRunnerInput(call);
  }
}

/** Histories recorded before it queued the session's work item at its first runner call only. */
export const queueAtTurnStartPatch = 'runner-work-at-turn-start';
/** Histories recorded before it handed a runner call with invalid input to the runner as it was. */
export const validateRunnerInputPatch = 'validate-runner-tool-input';

/**
 * Why a runner call's input does not match the runner toolset's definition (domain/tools/runner-tools.ts), if it does
 * not: such a call is answered here (announced `deny`, which the runner resolves without running anything) rather than
 * handed to a runner, as a sandbox call with invalid input never acquires a container.
 */
export function invalidRunnerInput(call: ToolCall): string | undefined {
  if (call.route.kind !== 'runner' || !isSandboxToolName(call.name)) return undefined;
  const checked = checkToolInput(runnerTools[call.name], call.input);
  // patched() only where the new branch differs: histories of valid calls carry no marker.
  return !checked.ok && patched(validateRunnerInputPatch) ? checked.message : undefined;
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
