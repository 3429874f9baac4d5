// One model call with the loop's own retries: each failed attempt is announced (session.error retrying +
// session.status_rescheduled), waits honouring the provider's retry-after, and the last one ends the turn with
// `retries_exhausted`. A rejected request (400/401/...) is not retried. An interrupt cancels the call at once.
import { TimeoutType } from '@temporalio/common';
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { InvokeModelInput } from '../domain/contracts/model-activity.ts';
import { FailureType, isRetryableFailure, sessionErrorTypeFor } from '../domain/errors.ts';
import type { ModelResponse } from '../domain/model.ts';
import type { SessionSettings } from '../domain/session.ts';
import { modelActivities } from './activity-proxies.ts';
import { handOffPatch, type EventJournal } from './event-journal.ts';
import { patchedFolded } from './folded-patches.ts';
import type { SessionStatusTracker } from './session-status.ts';

/** Sessions from this patch on write `agent.thinking` to the log (before, thinking was streamed only). */
export const thinkingEventPatch = 'agent-thinking-event';

/** Sessions from this patch on retry a model call no worker ran (lostOnTheWay) without announcing an error. */
export const lostCallPatch = 'model-call-lost-on-the-way';

export type ModelCallOutcome =
  | { kind: 'response'; response: ModelResponse; messageEventId: string }
  | { kind: 'interrupted' }
  | { kind: 'rejected' }
  | { kind: 'exhausted' }
  /** The tenant's daily model budget is used up: the turn ends with `budget_reached`, no error event. */
  | { kind: 'budget' };

export interface ModelCallContext {
  settings: SessionSettings;
  journal: EventJournal;
  status: SessionStatusTracker;
  interrupted: () => boolean;
  /** Registers the scope an interrupt must cancel. */
  setCancellable: (scope: CancellationScope | undefined) => void;
}

export async function callModel(
  context: ModelCallContext,
  request: Omit<InvokeModelInput, 'throughSeq' | 'messageEventId' | 'thinkingEventId' | 'unwrittenEvents'>,
  summary: string,
): Promise<ModelCallOutcome> {
  const { journal, settings, status } = context;
  let activities = modelActivities(settings);
  for (let attempt = 1; ; attempt++) {
    const start = journal.emit({ type: 'span.model_request_start', model: request.model.id, summary });
    const messageEventId = journal.newId();
    // Histories from before agent.thinking was written to the log drew no id for it.
    const thinkingEventId = patchedFolded(thinkingEventPatch) ? journal.newId() : undefined;
    // The activity reads the transcript from the journal: what is not written yet either rides with it, or is
    // written first.
    const unwrittenEvents = patchedFolded(handOffPatch) ? await journal.takeForActivityAfterWrite() : undefined;
    if (!unwrittenEvents) await journal.flushed();
    const scope = new CancellationScope();
    context.setCancellable(scope);
    let handedOff = unwrittenEvents !== undefined;
    const settleHandOff = (written: boolean) => {
      if (handedOff) journal.settleHandOff(written);
      handedOff = false;
    };
    try {
      const response = await scope.run(() =>
        activities.invokeModel.executeWithOptions({ summary }, [
          {
            ...request,
            throughSeq: journal.lastSeq,
            messageEventId,
            ...(thinkingEventId ? { thinkingEventId } : {}),
            ...(unwrittenEvents ? { unwrittenEvents } : {}),
          },
        ]),
      );
      settleHandOff(true);
      journal.emit({
        type: 'span.model_request_end',
        model_request_start_id: start.id,
        is_error: false,
        model_usage: {
          input_tokens: response.usage.inputTokens,
          output_tokens: response.usage.outputTokens,
          cache_creation_input_tokens: response.usage.cacheCreationInputTokens,
          cache_read_input_tokens: response.usage.cacheReadInputTokens,
        },
      });
      if (thinkingEventId && response.thinking) journal.emit({ type: 'agent.thinking', id: thinkingEventId });
      return { kind: 'response', response, messageEventId };
    } catch (error) {
      settleHandOff(false);
      journal.emit({
        type: 'span.model_request_end',
        model_request_start_id: start.id,
        is_error: true,
        model_usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      });
      if (context.interrupted() && (isCancellation(error) || scope.consideredCancelled)) return { kind: 'interrupted' };
      if (settings.region !== undefined && notPickedUp(error) && attempt < settings.modelMaxAttempts) {
        // The region's model workers did not take the call: every other attempt goes to the shared queue at once.
        activities = modelActivities(settings, 'shared');
        continue;
      }
      // Nothing of the call ran, so nothing is repeated and there is no failure to announce: the next attempt at once.
      // (patched() last: only a run that takes this branch records the marker.)
      if (lostOnTheWay(error) && attempt < settings.modelMaxAttempts && patched(lostCallPatch)) continue;
      const failure = describeFailure(error);
      if (failure.type === FailureType.tenantBudgetReached) return { kind: 'budget' };
      if (!failure.retryable) {
        emitModelError(journal, failure, 'exhausted');
        return { kind: 'rejected' };
      }
      if (attempt >= settings.modelMaxAttempts) {
        emitModelError(journal, failure, 'exhausted');
        return { kind: 'exhausted' };
      }
      emitModelError(journal, failure, 'retrying');
      status.rescheduling();
      const delay = failure.retryAfterMs ?? backoff(settings, attempt);
      // An interrupt during the wait ends the turn without another attempt.
      if (await condition(context.interrupted, delay)) return { kind: 'interrupted' };
      status.running();
    } finally {
      context.setCancellable(undefined);
    }
  }
}

function emitModelError(journal: EventJournal, failure: FailureInfo, retryStatus: 'retrying' | 'exhausted'): void {
  journal.emit({
    type: 'session.error',
    error: { type: sessionErrorTypeFor(failure.type), message: failure.message, retry_status: { type: retryStatus } },
  });
}

function backoff(settings: SessionSettings, attempt: number): number {
  return Math.min(settings.modelRetryMaxMs, settings.modelRetryInitialMs * 2 ** (attempt - 1));
}

interface FailureInfo {
  type: string | undefined;
  message: string;
  retryable: boolean;
  retryAfterMs: number | undefined;
}

/** No worker of the queue started the call in time (a regional queue whose model workers are gone). */
function notPickedUp(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  return cause instanceof TimeoutFailure && cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

/**
 * The server timed the call out on its heartbeat and no heartbeat of it was ever recorded (the model activity's carry
 * a detail, and one is stored before the provider request goes out, activities/heartbeats.ts): no worker got it. On a
 * loaded machine that is a task Temporal lost on its way to the worker: matching gives history a fixed 1 s to record
 * the start of a task it hands to a waiting poller, and when recording takes longer the start is stored while the
 * poll's answer is dropped, so the attempt waits out its heartbeat timeout with no worker holding it (bench P7).
 */
function lostOnTheWay(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  return (
    cause instanceof TimeoutFailure &&
    cause.timeoutType === TimeoutType.HEARTBEAT &&
    cause.lastHeartbeatDetails === undefined
  );
}

/** Reads the activity failure: the adapter's ApplicationFailure, or a timeout (a model worker that died). */
function describeFailure(error: unknown): FailureInfo {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const retryable = isRetryableFailure(cause.type, cause.nonRetryable);
    return { type: cause.type ?? undefined, message: cause.message, retryable, retryAfterMs: retryAfterOf(cause) };
  }
  const message = cause instanceof Error ? cause.message : 'model call failed';
  return { type: FailureType.modelTransport, message, retryable: true, retryAfterMs: undefined };
}

/** The provider's retry-after hint, which the model activity puts in the failure's details. */
function retryAfterOf(failure: ApplicationFailure): number | undefined {
  const detail: unknown = failure.details?.[0];
  if (detail && typeof detail === 'object' && 'retryAfterMs' in detail && typeof detail.retryAfterMs === 'number') {
    return detail.retryAfterMs;
  }
  return undefined;
}
