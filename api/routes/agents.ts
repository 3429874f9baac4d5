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
import { notFound } from '../errors.ts';
import { agentCreateSchema, agentSchema, agentUpdateSchema } from '../schemas/agents.ts';
import { listQuerySchema, pageSchema, timestampSchema } from '../schemas/common.ts';

const params = z.object({ agent_id: z.string().min(1).max(128) });
const tags = ['agents'];

export function registerAgentRoutes(app: ZodApp, { pool }: ApiContext): void {
  app.post(
    '/v1/agents',
    { schema: { tags, summary: 'Create an agent', body: agentCreateSchema, response: { 200: agentSchema } } },
    async (request) =>
      createAgent(pool, request.tenantId, await definitionFromCreate(pool, request.tenantId, request.body)),
  );

  app.get(
    '/v1/agents/:agent_id',
    {
      schema: {
        tags,
        summary: 'Get an agent (its latest version, or `version`)',
        params,
        querystring: z.object({ version: z.coerce.number().int().min(1).max(2_147_483_647).optional() }),
        response: { 200: agentSchema },
      },
    },
    async (request) => {
      const agent = await getAgent(pool, request.tenantId, request.params.agent_id, request.query.version);
      if (!agent) throw notFound('agent', request.params.agent_id);
      return agent;
    },
  );

  app.post(
    '/v1/agents/:agent_id',
    {
      schema: {
        tags,
        summary: 'Update an agent: writes a new version; `version` must match the current one (409 otherwise)',
        params,
        body: agentUpdateSchema,
        response: { 200: agentSchema },
      },
    },
    async (request) => {
      const { tenantId, body } = request;
      const id = request.params.agent_id;
      const existing = await getAgent(pool, tenantId, id);
      if (!existing) throw notFound('agent', id);
      // Normalise (and check sub-agent references) before the row lock is taken.
      const next = await applyUpdate(pool, tenantId, definitionOf(existing), body, patchMetadata);
      // The version check under the row lock guarantees `existing` is still current when `next` is written.
      const updated = await updateAgent(pool, tenantId, id, body.version ?? existing.version, () => next);
      if (!updated) throw notFound('agent', id);
      return updated;
    },
  );

  app.get(
    '/v1/agents',
    {
      schema: {
        tags,
        summary: 'List agents',
        querystring: listQuerySchema.extend({
          'created_at[gte]': timestampSchema.optional(),
          'created_at[lte]': timestampSchema.optional(),
        }),
        response: { 200: pageSchema(agentSchema) },
      },
    },
    async (request) =>
      listAgents(pool, request.tenantId, {
        limit: request.query.limit,
        page: request.query.page,
        includeArchived: request.query.include_archived,
        createdGte: request.query['created_at[gte]'],
        createdLte: request.query['created_at[lte]'],
      }),
  );

  app.post(
    '/v1/agents/:agent_id/archive',
    {
      schema: { tags, summary: 'Archive an agent: new sessions cannot use it', params, response: { 200: agentSchema } },
    },
    async (request) => {
      const agent = await archiveAgent(pool, request.tenantId, request.params.agent_id);
      if (!agent) throw notFound('agent', request.params.agent_id);
      return agent;
    },
  );

  app.get(
    '/v1/agents/:agent_id/versions',
    {
      schema: {
        tags,
        summary: 'List the versions of an agent, newest first',
        params,
        querystring: listQuerySchema,
        response: { 200: pageSchema(agentSchema) },
      },
    },
    async (request) => {
      const page = await listAgentVersions(pool, request.tenantId, request.params.agent_id, {
        limit: request.query.limit,
        page: request.query.page,
      });
      if (!page) throw notFound('agent', request.params.agent_id);
      return page;
    },
  );
}
