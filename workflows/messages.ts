// The session workflow's messages: module-level definitions shared by the workflow and every client (the API, the
// temporal CLI by name, other SDKs by name). Names are part of the public contract; see README "Driving a session".
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SessionStateView } from '../domain/session.ts';
import type { DistributiveOmit, UserEvent } from '../domain/events.ts';

/** A user event as sent; `id` is assigned by the sender for idempotency (the workflow assigns one if missing). */
export type IncomingUserEvent = DistributiveOmit<UserEvent, 'id' | 'processed_at'> & { id?: string };

/**
 * User events (`user.message`, `user.interrupt`, `user.tool_confirmation`, `user.custom_tool_result`), in order.
 * Duplicates (same id) are ignored; an interrupt jumps the queue.
 */
export const userEventsSignal = defineSignal<[IncomingUserEvent[]]>('userEvents');

/**
 * The same user events as an update, for callers that need the verdict: its validator rejects, before anything reaches
 * history, an answer nobody awaits (failure type `UserEventRejected`) and events for a session that is ending
 * (`SessionEnded`); completing means accepted (workflows/user-event-validation.ts).
 */
export const userEventsUpdate = defineUpdate<void, [IncomingUserEvent[]]>('sendUserEvents');

/** An answer to something the session awaits (a confirmation, a custom or a runner's tool result): valid only then. */
export const isAnswer = (event: IncomingUserEvent): boolean =>
  event.type === 'user.tool_confirmation' ||
  event.type === 'user.custom_tool_result' ||
  event.type === 'user.tool_result';

/** Ends the session: sandbox removed, status `terminated`, workflow completes. */
export const terminateSessionSignal =
  defineSignal<[{ reason: 'archived' | 'deleted' | 'terminated' }]>('terminateSession');

/** What an update through the API changed (only what did): journaled as `session.updated`, once per `id`. */
export interface SessionUpdateNotice {
  id: string;
  title?: string | null;
  /** The whole metadata bag after the update, when it is not empty. */
  metadata?: Record<string, string>;
}

export const sessionUpdatedSignal = defineSignal<[SessionUpdateNotice]>('sessionUpdated');

export const sessionStateQuery = defineQuery<SessionStateView>('sessionState');
