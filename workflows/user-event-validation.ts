// The verdict on a batch of user events, given before any of it reaches history (the update's validator): an answer
// nobody awaits — a confirmation, custom tool result or runner's tool result for a tool use that is not waiting for
// one, or already answered, or answered twice in the batch — rejects the whole batch, as does any event for a session
// that is ending. Events already received (same id: a retried delivery) are accepted and ignored, as by the signal.
import { ApplicationFailure, log } from '@temporalio/workflow';
import { FailureType } from '../domain/errors.ts';
import type { PendingAction } from '../domain/session.ts';
import type { IncomingUserEvent } from './messages.ts';

export interface UserEventContext {
  ending: boolean;
  /** Ids of the events received so far. */
  received: ReadonlySet<string>;
  /** What the tool use with this event id awaits from the client (an unanswered pending action), if anything. */
  awaiting: (toolUseId: string) => PendingAction['kind'] | undefined;
}

interface Answer {
  toolUseId: string;
  kind: PendingAction['kind'];
  field: 'tool_use_id' | 'custom_tool_use_id';
}

/** What a user event answers, if it is an answer. */
export function answerOf(event: IncomingUserEvent): Answer | undefined {
  switch (event.type) {
    case 'user.tool_confirmation':
      return { toolUseId: event.tool_use_id, kind: 'confirmation', field: 'tool_use_id' };
    case 'user.custom_tool_result':
      return { toolUseId: event.custom_tool_use_id, kind: 'custom_tool_result', field: 'custom_tool_use_id' };
    case 'user.tool_result':
      return { toolUseId: event.tool_use_id, kind: 'tool_result', field: 'tool_use_id' };
    default:
      return undefined;
  }
}

const notAwaitedMessage: Record<PendingAction['kind'], (toolUseId: string) => string> = {
  confirmation: (id) => `no tool use ${id} is awaiting confirmation`,
  custom_tool_result: (id) => `no custom tool use ${id} is awaiting a result`,
  tool_result: (id) => `no tool use ${id} is awaiting a self-hosted runner's result`,
};

const rejected = (type: FailureType, message: string) =>
  ApplicationFailure.create({ type, message, nonRetryable: true });

/** Throws the rejection (an ApplicationFailure typed `UserEventRejected` or `SessionEnded`); returns when accepted. */
export function validateUserEvents(events: IncomingUserEvent[], context: UserEventContext): void {
  if (context.ending) throw rejected(FailureType.sessionEnded, 'the session has ended');
  const answered = new Set<string>();
  for (const event of events) {
    if (event.id !== undefined && context.received.has(event.id)) continue;
    const answer = answerOf(event);
    if (!answer) continue;
    if (answered.has(answer.toolUseId)) {
      throw rejected(
        FailureType.userEventRejected,
        `${answer.field} ${answer.toolUseId} is answered twice in this request`,
      );
    }
    answered.add(answer.toolUseId);
    if (context.awaiting(answer.toolUseId) !== answer.kind) {
      throw rejected(FailureType.userEventRejected, notAwaitedMessage[answer.kind](answer.toolUseId));
    }
  }
}

/** Only a signal can bring a stray answer (the update's validator refuses it): dropped, but not silently. */
export function logStrayAnswer(event: IncomingUserEvent): void {
  const answer = answerOf(event);
  log.warn('dropped a user event that answers nothing awaited', { type: event.type, toolUseId: answer?.toolUseId });
}
