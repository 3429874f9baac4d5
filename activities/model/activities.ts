// The model activity: reads the transcript from the event journal, calls the provider through its adapter with
// streaming, publishes live deltas in batches, heartbeats, and returns the whole response. Retries belong to the
// workflow (it announces them as events); provider SDK retries are off.
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { appendSessionEvents, readEvents } from '../../db/repositories/session-events.ts';
import type { SecretBox } from '../../db/repositories/secret-box.ts';
import { resolveSessionCredentials } from '../../db/repositories/vault-secrets.ts';
import type { JournaledEvent } from '../../domain/events.ts';
import type { InvokeModelInput } from '../../domain/contracts/model-activity.ts';
import type { JournalBatch } from '../../domain/contracts/journal-batch.ts';
import type { ModelResponse } from '../../domain/model.ts';
import { buildTranscript } from '../../domain/transcript.ts';
import { UrlGuard } from '../../net/url-guard.ts';
import { adapterFor } from './adapter.ts';
import { DeltaPublisher } from './delta-publisher.ts';
import { resolveModelEndpoint, type ModelEndpoints } from './endpoint.ts';
import { ProviderLimiter } from './provider-limits.ts';
import { assertWithinBudget, defaultMetering, meterResponse, type MeteringOptions } from './usage-metering.ts';

export type { ModelEndpoints } from './endpoint.ts';

export interface ModelActivityDeps {
  pool: pg.Pool;
  endpoints: ModelEndpoints;
  limiter?: ProviderLimiter;
  /** Checks and connects to tenant endpoints (an agent's model.base_url that is not the operator's). */
  urlGuard?: UrlGuard;
  /** Opens the tenant's own model key from the session's vaults, for tenant endpoints. */
  secretBox?: SecretBox;
  /** Price table and default daily token budget for the usage ledger (usage-metering.ts). */
  metering?: MeteringOptions;
}

export function createModelActivities(deps: ModelActivityDeps) {
  const limiter = deps.limiter ?? new ProviderLimiter({ maxConcurrent: 100, maxPerSecond: 1_000 });
  const urlGuard = deps.urlGuard ?? new UrlGuard();
  const metering = deps.metering ?? defaultMetering;
  const resolveEndpoint = (input: InvokeModelInput) =>
    resolveModelEndpoint({
      endpoints: deps.endpoints,
      model: input.model,
      guard: urlGuard,
      tenantCredentials: async (name) =>
        deps.secretBox && input.tenantId
          ? resolveSessionCredentials(deps.pool, deps.secretBox, input.tenantId, input.vaultIds ?? [], {
              type: 'environment_variable',
              authKey: `env:${name}`,
            })
          : [],
    });

  return {
    async invokeModel(input: InvokeModelInput): Promise<ModelResponse> {
      const context = Context.current();
      const endpoint = await resolveEndpoint(input);
      if (input.tenantId) await assertWithinBudget(deps.pool, metering, input.tenantId);
      const unwritten = handedOffBatch(input);
      if (unwritten) await appendSessionEvents(deps.pool, unwritten);
      const events = await readEvents(deps.pool, input.sessionId, { throughSeq: input.throughSeq });
      const messages = buildTranscript(events.map((journaled) => journaled.event));
      const deltas = new DeltaPublisher(deps.pool, input.sessionId, input.messageEventId, input.thinkingEventId);
      // Heartbeats also while waiting for a provider slot, so a long wait is not taken for a dead worker.
      const heartbeat = setInterval(() => context.heartbeat(), 1_000);
      let release: (() => void) | undefined;
      try {
        release = await limiter.acquire(input.model.provider, context.cancellationSignal);
        context.heartbeat();
        const response = await adapterFor(input.model.provider).call(
          {
            model: { ...input.model, baseUrl: endpoint.baseUrl },
            system: input.system,
            messages,
            tools: input.tools,
            maxOutputTokens: input.maxOutputTokens,
          },
          {
            apiKey: endpoint.apiKey,
            fetch: endpoint.fetch,
            signal: context.cancellationSignal,
            onPart: (part) => {
              deltas.push(part);
              context.heartbeat();
            },
          },
        );
        await meterResponse(deps.pool, metering, input, response);
        return response;
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
