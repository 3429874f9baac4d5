// GET /v1/usage (extension: token usage and active time per session of the tenant, and their total) and
// GET /health (no auth: can this process reach Temporal and PostgreSQL?).
import { z } from 'zod';
import { emptyTotals, usageBySession, type UsageTotals } from '../../db/repositories/session-events.ts';
import { listTenantSessionIds } from '../../db/repositories/sessions.ts';
import type { ApiContext, ZodApp } from '../context.ts';

const totalsSchema = z.object({
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_read_input_tokens: z.number(),
  cache_creation_input_tokens: z.number(),
  model_requests: z.number(),
  active_seconds: z.number(),
});

const usageSchema = z
  .object({ data: z.array(totalsSchema.extend({ session_id: z.string() })), total: totalsSchema })
  .meta({ id: 'Usage' });

export function registerUsageAndHealthRoutes(app: ZodApp, { pool, driver }: ApiContext): void {
  app.get(
    '/v1/usage',
    {
      schema: {
        tags: ['usage'],
        summary: 'Usage per session and in total for the calling tenant',
        response: { 200: usageSchema },
      },
    },
    async (request) => {
      const ids = await listTenantSessionIds(pool, request.tenantId);
      const bySession = await usageBySession(pool, ids);
      const total: UsageTotals = emptyTotals();
      const data = ids.map((sessionId) => {
        const usage = bySession.get(sessionId) ?? emptyTotals();
        for (const key of Object.keys(total) as (keyof UsageTotals)[]) total[key] += usage[key];
        return { session_id: sessionId, ...usage };
      });
      return { data, total };
    },
  );

  app.get(
    '/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness of the API and its backing services (no auth)',
        response: {
          200: z.object({ ok: z.boolean(), temporal: z.boolean(), postgres: z.boolean() }),
          503: z.object({ ok: z.boolean(), temporal: z.boolean(), postgres: z.boolean() }),
        },
      },
    },
    async (_request, reply) => {
      const [temporal, postgres] = await Promise.all([
        driver.healthy(),
        pool.query('select 1').then(
          () => true,
          () => false,
        ),
      ]);
      const ok = temporal && postgres;
      return reply.code(ok ? 200 : 503).send({ ok, temporal, postgres });
    },
  );
}
