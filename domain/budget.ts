// Spend limits of a session: the agent's `limits.token_budget` (an extension: total tokens) and the API's session
// `budget` (a list-cost ceiling in minor units of USD, priced by the model's list price pinned at creation). Either
// spent stops the turn before its next model request with `budget_reached`.
import type { AgentLimits } from './agent.ts';
import type { SessionBudget, SessionUsageSnapshot } from './events.ts';
import type { ModelUsage } from './model.ts';
import { costOf, type PriceTable } from './model-prices.ts';

/** The session's budget as the workflow holds it: the limit as sent, and the list price of the models it can run. */
export interface PinnedBudget {
  limit: SessionBudget;
  prices: PriceTable;
  model: string;
}

/** List cost in USD of a usage, at the pinned prices. */
export const listCostUsd = (budget: PinnedBudget, usage: ModelUsage): number =>
  costOf(budget.prices, budget.model, {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_read_input_tokens: usage.cacheReadInputTokens,
    cache_creation_input_tokens: usage.cacheCreationInputTokens,
  });

/** Minor units (cents) as the API writes money: an integer decimal string. */
export const minorUnits = (usd: number): string => String(Math.floor(usd * 100));

export function budgetSpent(limits: AgentLimits | undefined, budget: PinnedBudget | undefined, usage: ModelUsage) {
  const tokenBudget = limits?.token_budget;
  if (tokenBudget !== undefined && usage.inputTokens + usage.outputTokens >= tokenBudget) return true;
  return budget !== undefined && listCostUsd(budget, usage) * 100 >= Number(budget.limit.max_list_cost.amount);
}

/** The `session.usage` snapshot (with the tracked list cost when the session has a budget). */
export function usageSnapshot(usage: ModelUsage, activeMs: number, budget?: PinnedBudget): SessionUsageSnapshot {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_read_input_tokens: usage.cacheReadInputTokens,
    active_seconds: Math.round(activeMs) / 1000,
    ...(budget ? { list_cost: { amount: minorUnits(listCostUsd(budget, usage)), currency: 'USD' as const } } : {}),
  };
}
