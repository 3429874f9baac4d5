// Metering of model calls: before a call, the tenant's daily token budget (its own limit, else the platform default;
// 0 = unlimited) — over it, the call fails with a non-retryable `TenantBudgetReached` and the loop ends the turn with
// `budget_reached`; after a call, one usage-ledger row with the response's tokens and their price, keyed by the
// response's event id so a retried activity writes it once.
import type pg from 'pg';
import { recordModelUsage, tenantTokenBudget } from '../../db/repositories/usage-ledger.ts';
import { ErrorCode, PlatformError } from '../../domain/errors.ts';
import type { ModelResponse, ModelUsage } from '../../domain/model.ts';
import { costOf, defaultPriceTable, type PriceTable } from '../../domain/model-prices.ts';
import { toApplicationFailure } from '../failures.ts';

export interface MeteringOptions {
  prices: PriceTable;
  /** Model tokens per tenant per UTC day when the tenant has no limit of its own (0: unlimited). */
  defaultTokensPerDay: number;
}

export const defaultMetering: MeteringOptions = { prices: defaultPriceTable, defaultTokensPerDay: 0 };

export async function assertWithinBudget(pool: pg.Pool, options: MeteringOptions, tenantId: string): Promise<void> {
  const { used, limit } = await tenantTokenBudget(pool, tenantId, options.defaultTokensPerDay);
  if (limit > 0 && used >= limit) {
    throw toApplicationFailure(
      new PlatformError(ErrorCode.tenantBudgetReached, `the tenant has used its ${limit} model tokens for today (UTC)`),
    );
  }
}

export async function meterResponse(
  pool: pg.Pool,
  options: MeteringOptions,
  input: { tenantId?: string; sessionId: string; model: { id: string }; entryKey: string },
  response: ModelResponse,
): Promise<void> {
  await meterUsage(pool, options, input, response.usage);
}

/** One ledger row for a model response's usage (also the model gateway's, for harnesses in sandboxes). */
export async function meterUsage(
  pool: pg.Pool,
  options: MeteringOptions,
  input: { tenantId?: string; sessionId: string; model: { id: string }; entryKey: string },
  usage: ModelUsage,
): Promise<void> {
  if (!input.tenantId) return;
  const tokens = {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_read_input_tokens: usage.cacheReadInputTokens,
    cache_creation_input_tokens: usage.cacheCreationInputTokens,
  };
  await recordModelUsage(pool, {
    entryKey: input.entryKey,
    tenantId: input.tenantId,
    sessionId: input.sessionId,
    model: input.model.id,
    costUsd: costOf(options.prices, input.model.id, tokens),
    ...tokens,
  });
}
