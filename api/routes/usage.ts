// GET /v1/usage (extension): the calling tenant's usage ledger — model tokens (and their cost), session running time
// and sandbox running time — between two instants, per session (default), per model, per UTC day, or only in total.
// Read from the ledger, so it includes sub-agent sessions and survives session deletion.
import { z } from 'zod';
import { readUsage, usageGroupings } from '../../db/repositories/usage-ledger.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { invalidRequest } from '../errors.ts';
import { timestampSchema } from '../schemas/common.ts';

const totalsSchema = z.object({
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_read_input_tokens: z.number(),
  cache_creation_input_tokens: z.number(),
  model_requests: z.number(),
  active_seconds: z.number().describe('session running time'),
  sandbox_seconds: z.number().describe('sandbox running time'),
  cost_usd: z.number().describe('model tokens priced by the configured price table when they were used'),
});

const usageSchema = z
  .object({
    data: z.array(
      totalsSchema.extend({
        session_id: z.string().optional(),
        model: z.string().nullable().optional(),
        day: z.string().optional().describe('YYYY-MM-DD (UTC)'),
      }),
    ),
    total: totalsSchema,
  })
  .meta({ id: 'Usage' });

const usageQuerySchema = z.object({
  starting_at: timestampSchema.optional().describe('inclusive'),
  ending_at: timestampSchema.optional().describe('exclusive'),
  group_by: z.enum(usageGroupings).default('session'),
});

export function registerUsageRoutes(app: ZodApp, { pool }: ApiContext): void {
  app.get(
    '/v1/usage',
    {
      schema: {
        tags: ['usage'],
        summary: "The tenant's usage ledger between two instants, grouped by session, model or day (extension)",
        querystring: usageQuerySchema,
        response: { 200: usageSchema },
      },
    },
    async (request) => {
      const { starting_at: from, ending_at: to, group_by: groupBy } = request.query;
      if (from && to && Date.parse(from) > Date.parse(to)) throw invalidRequest('starting_at is after ending_at');
      return readUsage(pool, request.tenantId, { from, to, groupBy });
    },
  );
}
