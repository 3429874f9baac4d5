// /v1/deployment_runs: the record of every firing, filtered by deployment, trigger type, error and creation time.
import { z } from 'zod';
import { getRun, listRuns } from '../../db/repositories/deployment-runs.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { runResponse } from '../deployment-view.ts';
import { notFound } from '../errors.ts';
import { pageSchema } from '../schemas/common.ts';
import { deploymentRunListQuerySchema, deploymentRunSchema } from '../schemas/deployments.ts';

const params = z.object({ deployment_run_id: z.string().min(1).max(128) });
const tags = ['deployments'];

export function registerDeploymentRunRoutes(app: ZodApp, { pool }: ApiContext): void {
  app.get(
    '/v1/deployment_runs/:deployment_run_id',
    { schema: { tags, summary: 'Get a deployment run', params, response: { 200: deploymentRunSchema } } },
    async (request) => {
      const run = await getRun(pool, request.tenantId, request.params.deployment_run_id);
      if (!run) throw notFound('deployment run', request.params.deployment_run_id);
      return runResponse(run);
    },
  );

  app.get(
    '/v1/deployment_runs',
    {
      schema: {
        tags,
        summary: 'List deployment runs (newest first)',
        querystring: deploymentRunListQuerySchema,
        response: { 200: pageSchema(deploymentRunSchema) },
      },
    },
    async (request) => {
      const { query } = request;
      const page = await listRuns(pool, request.tenantId, {
        limit: query.limit,
        page: query.page,
        deploymentId: query.deployment_id,
        triggerType: query.trigger_type,
        hasError: query.has_error,
        createdGt: query['created_at[gt]'],
        createdGte: query['created_at[gte]'],
        createdLt: query['created_at[lt]'],
        createdLte: query['created_at[lte]'],
      });
      return { next_page: page.next_page, data: page.data.map(runResponse) };
    },
  );
}
