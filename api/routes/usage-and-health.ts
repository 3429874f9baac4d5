// GET /health (no auth: can this process reach Temporal and PostgreSQL?). /v1/usage lives in usage.ts.
import { z } from 'zod';
import type { ApiContext, ZodApp } from '../context.ts';

export function registerUsageAndHealthRoutes(app: ZodApp, { pool, driver }: ApiContext): void {
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
