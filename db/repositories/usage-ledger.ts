// The usage ledger (migration 1700000000122): append-only rows, one per model response (written by the model
// activity) and one per running stretch of a session (written by a trigger on the journal), each under a unique entry
// key so retried writers add nothing twice. Read by /v1/usage and by the model activity's daily budget check.
import type pg from 'pg';
import type { TokenCounts } from '../../domain/model-prices.ts';

export interface ModelUsageEntry extends TokenCounts {
  /** Unique per model response: a retried activity writes the same key. */
  entryKey: string;
  tenantId: string;
  sessionId: string;
  model: string;
  costUsd: number;
}

export async function recordModelUsage(pool: pg.Pool, entry: ModelUsageEntry): Promise<void> {
  await pool.query(
    `insert into usage_ledger (entry_key, tenant_id, session_id, kind, model, input_tokens, output_tokens,
       cache_read_input_tokens, cache_creation_input_tokens, cost_usd)
     values ($1, $2, $3, 'model_tokens', $4, $5, $6, $7, $8, $9) on conflict (entry_key) do nothing`,
    [
      entry.entryKey,
      entry.tenantId,
      entry.sessionId,
      entry.model,
      entry.input_tokens,
      entry.output_tokens,
      entry.cache_read_input_tokens,
      entry.cache_creation_input_tokens,
      entry.costUsd,
    ],
  );
}

/** Input + output tokens the tenant used since 00:00 UTC today, and its daily limit (its own, else `fallback`). */
export async function tenantTokenBudget(
  pool: pg.Pool,
  tenantId: string,
  fallback: number,
): Promise<{ used: number; limit: number }> {
  const { rows } = await pool.query<{ used: string | null; own: string | null }>(
    `select (select sum(input_tokens + output_tokens) from usage_ledger
              where tenant_id = $1 and kind = 'model_tokens'
                and occurred_at >= date_trunc('day', now() at time zone 'utc') at time zone 'utc') as used,
            (select limits->>'model_tokens_per_day' from tenants where id = $1) as own`,
    [tenantId],
  );
  const row = rows[0];
  return { used: Number(row?.used ?? 0), limit: row?.own != null ? Number(row.own) : fallback };
}

export const usageGroupings = ['session', 'model', 'day', 'none'] as const;
export type UsageGrouping = (typeof usageGroupings)[number];

export interface UsageRow extends TokenCounts {
  session_id?: string;
  model?: string | null;
  day?: string;
  model_requests: number;
  active_seconds: number;
  sandbox_seconds: number;
  cost_usd: number;
}

const groupColumns: Record<UsageGrouping, string[]> = {
  session: ['session_id'],
  model: ['model'],
  day: ["to_char(date_trunc('day', occurred_at at time zone 'utc'), 'YYYY-MM-DD') as day"],
  none: [],
};

/** The tenant's ledger between two instants (`to` exclusive), summed per group, plus the grand total. */
export async function readUsage(
  pool: pg.Pool,
  tenantId: string,
  options: { from?: string; to?: string; groupBy: UsageGrouping },
): Promise<{ data: UsageRow[]; total: UsageRow }> {
  const columns = groupColumns[options.groupBy];
  const sums = `sum(input_tokens)::float8 as input_tokens, sum(output_tokens)::float8 as output_tokens,
    sum(cache_read_input_tokens)::float8 as cache_read_input_tokens,
    sum(cache_creation_input_tokens)::float8 as cache_creation_input_tokens,
    (count(*) filter (where kind = 'model_tokens'))::float8 as model_requests,
    coalesce(sum(seconds) filter (where kind = 'session_seconds'), 0)::float8 as active_seconds,
    coalesce(sum(seconds) filter (where kind = 'sandbox_seconds'), 0)::float8 as sandbox_seconds,
    sum(cost_usd)::float8 as cost_usd`;
  const where = `tenant_id = $1 and ($2::timestamptz is null or occurred_at >= $2) and ($3::timestamptz is null or occurred_at < $3)`;
  const params = [tenantId, options.from ?? null, options.to ?? null];
  const [grouped, total] = await Promise.all([
    columns.length === 0
      ? Promise.resolve({ rows: [] as UsageRow[] })
      : pool.query<UsageRow>(
          `select ${columns.join(', ')}, ${sums} from usage_ledger where ${where}
           group by ${columns.map((_, index) => index + 1).join(', ')} order by 1`,
          params,
        ),
    pool.query<UsageRow>(`select ${sums} from usage_ledger where ${where}`, params),
  ]);
  const zero = (row: UsageRow | undefined): UsageRow => ({
    input_tokens: row?.input_tokens ?? 0,
    output_tokens: row?.output_tokens ?? 0,
    cache_read_input_tokens: row?.cache_read_input_tokens ?? 0,
    cache_creation_input_tokens: row?.cache_creation_input_tokens ?? 0,
    model_requests: row?.model_requests ?? 0,
    active_seconds: row?.active_seconds ?? 0,
    sandbox_seconds: row?.sandbox_seconds ?? 0,
    cost_usd: row?.cost_usd ?? 0,
  });
  return {
    data: grouped.rows.map((row) => ({
      ...(row.session_id !== undefined ? { session_id: row.session_id } : {}),
      ...(row.model !== undefined ? { model: row.model } : {}),
      ...(row.day !== undefined ? { day: row.day } : {}),
      ...zero(row),
    })),
    total: zero(total.rows[0]),
  };
}
