// /v1/environments: create, get, update, list, delete, archive. Names are unique per tenant (409).
import { z } from 'zod';
import {
  archiveEnvironment,
  createEnvironment,
  deleteEnvironment,
  getEnvironment,
  listEnvironments,
  updateEnvironment,
  type EnvironmentConfig,
} from '../../db/repositories/environments.ts';
import { patchMetadata } from '../../db/repositories/pagination.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { invalidRequest, notFound } from '../errors.ts';
import { deletedSchema, listQuerySchema, pageSchema } from '../schemas/common.ts';
import {
  environmentCreateSchema,
  environmentSchema,
  environmentUpdateSchema,
  type EnvironmentConfigBody,
} from '../schemas/environments.ts';

const params = z.object({ environment_id: z.string().min(1).max(128) });
const tags = ['environments'];
const packageManagers = ['apt', 'cargo', 'gem', 'go', 'npm', 'pip'] as const;
const installablePackageManagers = new Set<string>(['apt', 'pip', 'npm']);

/** The config as stored and returned, defaults filled. Networking defaults to `limited` with nothing allowed. */
export function normalizeEnvironmentConfig(config: EnvironmentConfigBody | null | undefined): EnvironmentConfig {
  const networking =
    config?.networking?.type === 'unrestricted'
      ? { type: 'unrestricted' }
      : {
          type: 'limited',
          allowed_hosts: config?.networking?.allowed_hosts ?? [],
          allow_package_managers: config?.networking?.allow_package_managers ?? false,
          allow_mcp_servers: config?.networking?.allow_mcp_servers ?? false,
        };
  const packages: Record<string, unknown> = { type: 'packages' };
  for (const manager of packageManagers) {
    const list = config?.packages?.[manager] ?? [];
    if (list.length > 0 && !installablePackageManagers.has(manager)) {
      throw invalidRequest(`config.packages.${manager}: only apt, pip and npm packages are supported`);
    }
    packages[manager] = list;
  }
  if (networking.type === 'limited' && (networking.allowed_hosts as string[]).length > 0) {
    throw invalidRequest('config.networking.allowed_hosts: egress allow-lists are not supported yet');
  }
  const normalized: EnvironmentConfig = { type: 'cloud', networking, packages };
  if (config?.sandbox) normalized.sandbox = config.sandbox;
  return normalized;
}

export function registerEnvironmentRoutes(app: ZodApp, { pool }: ApiContext): void {
  app.post(
    '/v1/environments',
    {
      schema: {
        tags,
        summary: 'Create an environment',
        body: environmentCreateSchema,
        response: { 200: environmentSchema },
      },
    },
    async (request) =>
      createEnvironment(pool, request.tenantId, {
        name: request.body.name,
        description: request.body.description || null,
        config: normalizeEnvironmentConfig(request.body.config),
        metadata: request.body.metadata ?? {},
      }),
  );

  app.get(
    '/v1/environments/:environment_id',
    { schema: { tags, summary: 'Get an environment', params, response: { 200: environmentSchema } } },
    async (request) => {
      const environment = await getEnvironment(pool, request.tenantId, request.params.environment_id);
      if (!environment) throw notFound('environment', request.params.environment_id);
      return environment;
    },
  );

  app.post(
    '/v1/environments/:environment_id',
    {
      schema: {
        tags,
        summary: 'Update an environment (applies to sessions created afterwards)',
        params,
        body: environmentUpdateSchema,
        response: { 200: environmentSchema },
      },
    },
    async (request) => {
      const { body } = request;
      const config = body.config ? normalizeEnvironmentConfig(body.config) : undefined;
      const environment = await updateEnvironment(pool, request.tenantId, request.params.environment_id, (current) => ({
        name: body.name ?? current.name,
        description: body.description === undefined ? current.description : body.description || null,
        config: config ?? current.config,
        metadata: patchMetadata(current.metadata, body.metadata),
      }));
      if (!environment) throw notFound('environment', request.params.environment_id);
      return environment;
    },
  );

  app.get(
    '/v1/environments',
    {
      schema: {
        tags,
        summary: 'List environments',
        querystring: listQuerySchema,
        response: { 200: pageSchema(environmentSchema) },
      },
    },
    async (request) =>
      listEnvironments(pool, request.tenantId, {
        limit: request.query.limit,
        page: request.query.page,
        includeArchived: request.query.include_archived,
      }),
  );

  app.delete(
    '/v1/environments/:environment_id',
    {
      schema: {
        tags,
        summary: 'Delete an environment',
        params,
        response: { 200: deletedSchema('environment_deleted') },
      },
    },
    async (request) => {
      const deleted = await deleteEnvironment(pool, request.tenantId, request.params.environment_id);
      if (!deleted) throw notFound('environment', request.params.environment_id);
      return { id: request.params.environment_id, type: 'environment_deleted' as const };
    },
  );

  app.post(
    '/v1/environments/:environment_id/archive',
    { schema: { tags, summary: 'Archive an environment', params, response: { 200: environmentSchema } } },
    async (request) => {
      const environment = await archiveEnvironment(pool, request.tenantId, request.params.environment_id);
      if (!environment) throw notFound('environment', request.params.environment_id);
      return environment;
    },
  );
}
