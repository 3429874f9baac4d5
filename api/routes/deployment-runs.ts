// /v1/deployment_runs: the record of every firing, filtered by deployment, trigger type, error and creation time.
import { listRuns } from '../../db/repositories/deployment-runs.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { crudRoutes } from '../crud-routes.ts';
import { runResponse } from '../deployment-view.ts';
import { deploymentRuns } from '../resources.ts';
import { deploymentRunListQuerySchema, deploymentRunSchema } from '../schemas/deployments.ts';

export function registerDeploymentRunRoutes(app: ZodApp, { pool }: ApiContext): void {
  const tags = ['deployments'];
  crudRoutes(app, pool, { kind: deploymentRuns, path: '/v1/deployment_runs', tags, schema: deploymentRunSchema })
    .retrieve({ summary: 'Get a deployment run' }, async ({ tenantId, params }) => {
      const run = await deploymentRuns.find(pool, tenantId, params);
      return run && runResponse(run);
    })
    .list(
      { summary: 'List deployment runs (newest first)', querystring: deploymentRunListQuerySchema },
      async ({ tenantId, query }) => {
        const page = await listRuns(pool, tenantId, {
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
