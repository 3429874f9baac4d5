// /v1/environments: create, get, update, list, delete, archive. Names are unique per tenant (409).
import {
  archiveEnvironment,
  createEnvironment,
  deleteEnvironment,
  listEnvironments,
  updateEnvironment,
  type EnvironmentConfig,
} from '../../db/repositories/environments.ts';
import { patchMetadata } from '../../db/repositories/pagination.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { crudRoutes } from '../crud-routes.ts';
import { invalidRequest } from '../errors.ts';
import { environments } from '../resources.ts';
import {
  environmentCreateSchema,
  environmentSchema,
  environmentUpdateSchema,
  type EnvironmentConfigBody,
} from '../schemas/environments.ts';

const tags = ['environments'];
const packageManagers = ['apt', 'cargo', 'gem', 'go', 'npm', 'pip'] as const;
const installablePackageManagers = new Set<string>(['apt', 'pip', 'npm']);

/** The config as stored and returned, defaults filled. Networking defaults to `limited` with nothing allowed. */
export function normalizeEnvironmentConfig(
  config: EnvironmentConfigBody | { type: 'self_hosted' } | null | undefined,
): EnvironmentConfig {
  if (config?.type === 'self_hosted') return { type: 'self_hosted' };
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
  // As the API: packages come from the public registries, which limited networking must let the environment reach.
  const anyPackages = packageManagers.some((manager) => (config?.packages?.[manager] ?? []).length > 0);
  if (anyPackages && networking.type === 'limited' && networking.allow_package_managers !== true) {
    throw invalidRequest('config.packages: limited networking needs config.networking.allow_package_managers: true');
  }
  const normalized: EnvironmentConfig = { type: 'cloud', networking, packages };
  if (config?.sandbox) normalized.sandbox = config.sandbox;
  return normalized;
}

export function registerEnvironmentRoutes(app: ZodApp, { pool }: ApiContext): void {
  crudRoutes(app, pool, { kind: environments, path: '/v1/environments', tags, schema: environmentSchema })
    .create({ summary: 'Create an environment', body: environmentCreateSchema }, async ({ tenantId, body, id }) =>
      createEnvironment(
        pool,
        tenantId,
        {
          name: body.name,
          description: body.description || null,
          config: normalizeEnvironmentConfig(body.config),
          metadata: body.metadata ?? {},
        },
        id,
      ),
    )
    .retrieve({ summary: 'Get an environment' })
    .update(
      { summary: 'Update an environment (applies to sessions created afterwards)', body: environmentUpdateSchema },
      async ({ tenantId, params, body }) => {
        const config = body.config ? normalizeEnvironmentConfig(body.config) : undefined;
        return updateEnvironment(pool, tenantId, params.environment_id, (current) => ({
          name: body.name ?? current.name,
          description: body.description === undefined ? current.description : body.description || null,
          config: config ?? current.config,
          metadata: patchMetadata(current.metadata, body.metadata),
        }));
      },
    )
    .list({ summary: 'List environments' }, async ({ tenantId, query }) =>
      listEnvironments(pool, tenantId, {
        limit: query.limit,
        page: query.page,
        includeArchived: query.include_archived,
      }),
    )
    .remove({ summary: 'Delete an environment', deletedType: 'environment_deleted' }, async ({ tenantId, params }) =>
      deleteEnvironment(pool, tenantId, params.environment_id),
    )
    .archive({ summary: 'Archive an environment' }, async ({ tenantId, params }) =>
      archiveEnvironment(pool, tenantId, params.environment_id),
    );
}
