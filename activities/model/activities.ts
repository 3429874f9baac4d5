// The model activity: reads the transcript from the event journal, calls the provider through its adapter with
// streaming, publishes live deltas in batches, heartbeats, and returns the whole response. Retries belong to the
// workflow (it announces them as events); provider SDK retries are off.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { appendSessionEvents, readEvents } from '../../db/repositories/session-events.ts';
import { FailureType } from '../../domain/errors.ts';
import type { JournaledEvent } from '../../domain/events.ts';
import type { InvokeModelInput } from '../../domain/contracts/model-activity.ts';
import type { JournalBatch } from '../../domain/contracts/journal-batch.ts';
import type { ModelResponse, ModelSpec } from '../../domain/model.ts';
import { buildTranscript } from '../../domain/transcript.ts';
import { adapterFor } from './adapter.ts';
import { DeltaPublisher } from './delta-publisher.ts';
import { ProviderLimiter } from './provider-limits.ts';

/** Where each provider is reached and with which key. Keys stay in the worker process; workflows never see them. */
export interface ModelEndpoints {
  anthropic: { apiKey?: string; baseUrl?: string };
  openai: { apiKey?: string; baseUrl?: string };
  /** The fake model server, used for any provider whose key is missing (dev stack, tests). */
  fallbackBaseUrl?: string;
}

export function createModelActivities(deps: { pool: pg.Pool; endpoints: ModelEndpoints; limiter?: ProviderLimiter }) {
  const limiter = deps.limiter ?? new ProviderLimiter({ maxConcurrent: 100, maxPerSecond: 1_000 });
  const resolveEndpoint = (model: ModelSpec): { apiKey: string; baseUrl?: string } => {
    const provider = model.provider === 'anthropic' ? deps.endpoints.anthropic : deps.endpoints.openai;
    if (provider.apiKey) return { apiKey: provider.apiKey, baseUrl: model.baseUrl ?? provider.baseUrl };
    const fallback = deps.endpoints.fallbackBaseUrl;
    if (fallback) {
      // The fake model server serves Anthropic at its root and OpenAI under /v1, as the real services do.
      return {
        apiKey: 'fake-key',
        baseUrl: model.baseUrl ?? (model.provider === 'anthropic' ? fallback : `${fallback}/v1`),
      };
    }
    throw ApplicationFailure.create({
      type: FailureType.misconfigured,
      nonRetryable: true,
      message: `no API key configured for ${model.provider} models on this worker`,
    });
  };

  return {
    async invokeModel(input: InvokeModelInput): Promise<ModelResponse> {
      const context = Context.current();
      const endpoint = resolveEndpoint(input.model);
      const unwritten = handedOffBatch(input);
      if (unwritten) await appendSessionEvents(deps.pool, unwritten);
      const events = await readEvents(deps.pool, input.sessionId, { throughSeq: input.throughSeq });
      const messages = buildTranscript(events.map((journaled) => journaled.event));
      const deltas = new DeltaPublisher(deps.pool, input.sessionId, input.messageEventId);
      // Heartbeats also while waiting for a provider slot, so a long wait is not taken for a dead worker.
      const heartbeat = setInterval(() => context.heartbeat(), 1_000);
      let release: (() => void) | undefined;
      try {
        release = await limiter.acquire(input.model.provider, context.cancellationSignal);
        context.heartbeat();
        return await adapterFor(input.model.provider).call(
          {
            model: { ...input.model, baseUrl: endpoint.baseUrl },
            system: input.system,
            messages,
            tools: input.tools,
            maxOutputTokens: input.maxOutputTokens,
          },
          {
            apiKey: endpoint.apiKey,
            signal: context.cancellationSignal,
            onPart: (part) => {
              deltas.push(part);
              context.heartbeat();
            },
          },
        );
      } finally {
        release?.();
        clearInterval(heartbeat);
        await deltas.close();
      }
    },
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
