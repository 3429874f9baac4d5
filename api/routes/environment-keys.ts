// /v1/environments/:id/keys (extension): the keys a self-hosted environment's runners poll with. Created (the key is
// in the answer, once), listed (hint only), revoked (immediately refused from then on).
import {
  createEnvironmentKey,
  listEnvironmentKeys,
  revokeEnvironmentKey,
} from '../../db/repositories/environment-keys.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { environments, orNotFound, pathIdSchema } from '../resources.ts';
import { listQuerySchema, pageSchema } from '../schemas/common.ts';
import {
  environmentKeyCreatedSchema,
  environmentKeyCreateSchema,
  environmentKeySchema,
} from '../schemas/self-hosted.ts';
import { requireSelfHostedEnvironment } from './self-hosted-environment.ts';

const params = environments.params;
const keyParams = params.extend({ key_id: pathIdSchema });
const tags = ['environment keys'];

export function registerEnvironmentKeyRoutes(app: ZodApp, { pool }: ApiContext): void {
  app.post(
    '/v1/environments/:environment_id/keys',
    {
      schema: {
        tags,
        summary: 'Create an environment key for a self-hosted runner (extension; the key is shown once)',
        params,
        body: environmentKeyCreateSchema,
        response: { 200: environmentKeyCreatedSchema },
      },
    },
    async (request) => {
      const environment = await requireSelfHostedEnvironment(pool, request.tenantId, request.params.environment_id);
      const name = request.body?.name ?? 'runner';
      const { record, key } = await createEnvironmentKey(pool, request.tenantId, environment.id, name);
      return { ...record, key };
    },
  );

  app.get(
    '/v1/environments/:environment_id/keys',
    {
      schema: {
        tags,
        summary: "List an environment's keys (extension; hints only)",
        params,
        querystring: listQuerySchema,
        response: { 200: pageSchema(environmentKeySchema) },
      },
    },
    async (request) => {
      const environment = await requireSelfHostedEnvironment(pool, request.tenantId, request.params.environment_id);
      return listEnvironmentKeys(pool, request.tenantId, environment.id, request.query);
    },
  );

  app.post(
    '/v1/environments/:environment_id/keys/:key_id/revoke',
    {
      schema: {
        tags,
        summary: 'Revoke an environment key (extension)',
        params: keyParams,
        response: { 200: environmentKeySchema },
      },
    },
    async (request) => {
      const { environment_id, key_id } = request.params;
      return orNotFound(
        await revokeEnvironmentKey(pool, request.tenantId, environment_id, key_id),
        'environment key',
        key_id,
      );
    },
  );
}
