// The model activities: the agent's turn (invokeModel) reads the transcript from the event journal, calls the
// provider through its adapter with streaming, publishes live deltas in batches, and returns the whole response;
// the outcome grader and the context summariser are side calls (side-calls.ts). Retries of the turn belong to the
// workflow (it announces them as events); provider SDK retries are off.
import { appendSessionEvents, readEvents } from '../../db/repositories/session-events.ts';
import { readContextSummary } from '../../db/repositories/context-summaries.ts';
import type { JournaledEvent } from '../../domain/events.ts';
import type { InvokeModelInput, InvokeModelOnMessagesInput } from '../../domain/contracts/model-activity.ts';
import type { JournalBatch } from '../../domain/contracts/journal-batch.ts';
import type { ModelResponse } from '../../domain/model.ts';
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
      const unwritten = handedOffBatch(input);
      if (unwritten) await appendSessionEvents(deps.pool, unwritten);
      // A compacted session carries the summary, then only the events after what it summarised.
      const summary = input.context ? await readContextSummary(deps.pool, input.context.summaryId) : undefined;
      const events = await readEvents(deps.pool, input.sessionId, {
        afterSeq: input.context?.afterSeq,
        throughSeq: input.throughSeq,
      });
      const messages = buildTranscript(
        events.map((journaled) => journaled.event),
        { summary },
      );
      const deltas = new DeltaPublisher(deps.pool, input.sessionId, input.messageEventId, input.thinkingEventId);
      try {
        return await callProvider({
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
        });
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
