// The price table the usage ledger charges model tokens by: USD per million tokens, per model id. A model matches its
// exact id, else the longest id that is a prefix of it (`claude-haiku-4-5` prices `claude-haiku-4-5-20251001`); an
// unpriced model costs 0. Configured with AGENTS_MODEL_PRICES (JSON), which replaces the defaults below.
import { z } from 'zod';

const perMillion = z.number().min(0);

export const modelPriceSchema = z.object({
  input: perMillion,
  output: perMillion,
  cache_read: perMillion.optional(),
  cache_creation: perMillion.optional(),
});
export const priceTableSchema = z.record(z.string().min(1), modelPriceSchema);
export type PriceTable = z.infer<typeof priceTableSchema>;

/** List prices at the time of writing; set AGENTS_MODEL_PRICES for your contract's. */
export const defaultPriceTable: PriceTable = {
  'claude-opus-4-1': { input: 15, output: 75, cache_read: 1.5, cache_creation: 18.75 },
  'claude-sonnet-4-5': { input: 3, output: 15, cache_read: 0.3, cache_creation: 3.75 },
  'claude-haiku-4-5': { input: 1, output: 5, cache_read: 0.1, cache_creation: 1.25 },
};

export interface TokenCounts {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export function priceFor(table: PriceTable, model: string): z.infer<typeof modelPriceSchema> | undefined {
  if (table[model]) return table[model];
  const prefix = Object.keys(table)
    .filter((id) => model.startsWith(id))
    .sort((a, b) => b.length - a.length)[0];
  return prefix ? table[prefix] : undefined;
}

/** The cost in USD of one model response's tokens. */
export function costOf(table: PriceTable, model: string, tokens: TokenCounts): number {
  const price = priceFor(table, model);
  if (!price) return 0;
  return (
    (tokens.input_tokens * price.input +
      tokens.output_tokens * price.output +
      tokens.cache_read_input_tokens * (price.cache_read ?? price.input) +
      tokens.cache_creation_input_tokens * (price.cache_creation ?? price.input)) /
    1_000_000
  );
}
