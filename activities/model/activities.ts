// The model activities: the agent's turn (invokeModel) reads the transcript from the event journal, calls the
// provider through its adapter with streaming, publishes live deltas in batches, and returns the whole response;
// the outcome grader and the context summariser are side calls (side-calls.ts). Retries of the turn belong to the
// workflow (it announces them as events); provider SDK retries are off.
import { appendSessionEvents, readEvents, readEventsWithBatch } from '../../db/repositories/session-events.ts';
import { readContextSummary } from '../../db/repositories/context-summaries.ts';
import type { JournaledEvent } from '../../domain/events.ts';
import type { InvokeModelInput, InvokeModelOnMessagesInput } from '../../domain/contracts/model-activity.ts';
import type { JournalBatch } from '../../domain/contracts/journal-batch.ts';
import type { ModelMessage, ModelResponse } from '../../domain/model.ts';
import { buildTranscript } from '../../domain/transcript.ts';
import { DeltaPublisher } from './delta-publisher.ts';
import { createProviderCaller, type ModelActivityDeps } from './provider-call.ts';
import { createDreamStepActivities } from './dream-step.ts';
import { createSideCallActivities } from './side-calls.ts';

export type { ModelEndpoints } from './endpoint.ts';
export type { ModelActivityDeps } from './provider-call.ts';

export function createModelActivities(deps: ModelActivityDeps) {
  const callProvider = createProviderCaller(deps);

  return {
    async invokeModel(input: InvokeModelInput): Promise<ModelResponse> {
      // Writing the handed-off events, reading the transcript and the provider call's own checks go to PostgreSQL
      // side by side: each is a round trip on every step of a turn. The provider call awaits them under its
      // heartbeats (provider-call.ts), which cover the activity from its start to the deltas' last flush. The request
      // does not wait for the write (the transcript already has the handed-off events); the deltas do, so a stream
      // never shows a delta ahead of the turn's events, and a failed write aborts the call and fails the activity (the
      // workflow writes the events again).
      const unwritten = handedOffBatch(input);
      const writeFailed = new AbortController();
      const written = unwritten ? appendSessionEvents(deps.pool, unwritten) : Promise.resolve();
      written.catch((error: unknown) => writeFailed.abort(error));
      const messages = readTranscript(deps.pool, input, unwritten);
      const deltas = new DeltaPublisher(deps.pool, input.sessionId, input.messageEventId, {
        thinkingEventId: input.thinkingEventId,
        after: written,
      });
      try {
        const response = await callProvider({
          sessionId: input.sessionId,
          meteredSessionId: input.meteredSessionId,
          model: input.model,
          tenantId: input.tenantId,
          vaultIds: input.vaultIds,
          entryKey: `model:${input.messageEventId}`,
          system: input.system,
          messages,
          tools: input.tools,
          maxOutputTokens: input.maxOutputTokens,
          onPart: (part) => deltas.push(part),
          settle: () => deltas.close(),
          signal: writeFailed.signal,
        });
        await written;
        return response;
      } catch (error) {
        await written; // the write's failure is the cause of the call's abort
        throw error;
      } finally {
        await deltas.close();
      }
    },
    /** One model call on the messages given (a dream's step): no transcript, no deltas; metered under `meterAs`. */
    async invokeModelOnMessages(input: InvokeModelOnMessagesInput): Promise<ModelResponse> {
      return callProvider({
        sessionId: input.meterAs,
        model: input.model,
        tenantId: input.tenantId,
        entryKey: `dream:${input.callId}`,
        system: input.system,
        messages: input.messages,
        tools: input.tools,
        maxOutputTokens: input.maxOutputTokens,
      });
    },
    ...createSideCallActivities(deps.pool, callProvider),
    ...createDreamStepActivities(deps.pool, callProvider),
  };
}

/** The call's transcript: the journal through `throughSeq` (with the handed-off batch), after the summary if compacted. */
async function readTranscript(
  pool: ModelActivityDeps['pool'],
  input: InvokeModelInput,
  unwritten: JournalBatch | undefined,
): Promise<ModelMessage[]> {
  // A compacted session carries the summary, then only the events after what it summarised.
  const range = { afterSeq: input.context?.afterSeq, throughSeq: input.throughSeq };
  const [summary, events] = await Promise.all([
    input.context ? readContextSummary(pool, input.context.summaryId) : undefined,
    unwritten ? readEventsWithBatch(pool, unwritten, range) : readEvents(pool, input.sessionId, range),
  ]);
  return buildTranscript(
    events.map((journaled) => journaled.event),
    { summary },
  );
}

/**
 * The batch handed to this call. Workflows before the one-batch-shape contract sent the bare event list; a call they
 * scheduled may still arrive during an upgrade.
 */
function handedOffBatch(input: InvokeModelInput): JournalBatch | undefined {
  const batch = input.unwrittenEvents as JournalBatch | JournaledEvent[] | undefined;
  if (Array.isArray(batch)) return { sessionId: input.sessionId, events: batch };
  return batch;
}

export type ModelActivities = ReturnType<typeof createModelActivities>;
