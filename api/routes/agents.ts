// /v1/agents: create, get (optionally a version), update (new immutable version, optimistic `version`), list,
// archive, list versions. There is no delete: archive is terminal, as Anthropic's.
import { z } from 'zod';
import {
  archiveAgent,
  createAgent,
  getAgent,
  listAgentVersions,
  listAgents,
  updateAgent,
} from '../../db/repositories/agents.ts';
import { patchMetadata } from '../../db/repositories/pagination.ts';
import { applyUpdate, definitionFromCreate, definitionOf } from '../agent-definitions.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { crudRoutes } from '../crud-routes.ts';
import { agents, orNotFound } from '../resources.ts';
import { assertAgentUrls } from '../tenant-urls.ts';
import { agentCreateSchema, agentSchema, agentUpdateSchema } from '../schemas/agents.ts';
import { listQuerySchema, pageSchema, timestampSchema } from '../schemas/common.ts';

const tags = ['agents'];

export function registerAgentRoutes(app: ZodApp, { pool, urlGuard }: ApiContext): void {
  crudRoutes(app, pool, { kind: agents, path: '/v1/agents', tags, schema: agentSchema })
    .create({ summary: 'Create an agent', body: agentCreateSchema }, async ({ tenantId, body, id }) => {
      await assertAgentUrls(urlGuard, body);
      return createAgent(pool, tenantId, await definitionFromCreate(pool, tenantId, body), id);
    })
    .retrieve(
      {
        summary: 'Get an agent (its latest version, or `version`)',
        querystring: z.object({ version: z.coerce.number().int().min(1).max(2_147_483_647).optional() }),
      },
      async ({ tenantId, params, query }) => getAgent(pool, tenantId, params.agent_id, query.version),
    )
    .update(
      {
        summary: 'Update an agent: writes a new version; `version` must match the current one (409 otherwise)',
        body: agentUpdateSchema,
      },
      async ({ tenantId, params, body }) => {
        const existing = await agents.require(pool, tenantId, params);
        await assertAgentUrls(urlGuard, body);
        // Normalise (and check sub-agent references) before the row lock is taken.
        const next = await applyUpdate(pool, tenantId, definitionOf(existing), body, patchMetadata);
        // The version check under the row lock guarantees `existing` is still current when `next` is written.
        return updateAgent(pool, tenantId, params.agent_id, body.version ?? existing.version, () => next);
      },
    )
    .list(
      {
        summary: 'List agents',
        querystring: listQuerySchema.extend({
          'created_at[gte]': timestampSchema.optional(),
          'created_at[lte]': timestampSchema.optional(),
        }),
      },
      async ({ tenantId, query }) =>
        listAgents(pool, tenantId, {
          limit: query.limit,
          page: query.page,
          includeArchived: query.include_archived,
          createdGte: query['created_at[gte]'],
          createdLte: query['created_at[lte]'],
        }),
    )
    .archive({ summary: 'Archive an agent: new sessions cannot use it' }, async ({ tenantId, params }) =>
      archiveAgent(pool, tenantId, params.agent_id),
    );

  app.get(
    '/v1/agents/:agent_id/versions',
    {
      schema: {
        tags,
        summary: 'List the versions of an agent, newest first',
        params: agents.params,
        querystring: listQuerySchema,
        response: { 200: pageSchema(agentSchema) },
      },
    },
    async (request) =>
      orNotFound(
        await listAgentVersions(pool, request.tenantId, request.params.agent_id, {
          limit: request.query.limit,
          page: request.query.page,
        }),
        'agent',
        request.params.agent_id,
      ),
  );
}
