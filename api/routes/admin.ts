// /v1/admin/…: the platform team's routes (admin keys only; api/auth.ts): tenants, and their API keys — created with
// a scope, listed with their last use, revoked at once, rotated with an optional grace period for the old key.
import {
  getApiKey,
  issueApiKey,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
  type IssuedApiKey,
} from '../../db/repositories/api-keys.ts';
import {
  createTenant,
  getTenant,
  listTenants,
  updateTenant,
  type TenantRecord,
} from '../../db/repositories/tenants.ts';
import { limitDefaults } from '../../domain/config.ts';
import { effectiveTenantLimits } from '../../domain/tenant-limits.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { crudRoutes } from '../crud-routes.ts';
import { idParams, orNotFound, resourceKind } from '../resources.ts';
import {
  adminKeyCreateSchema,
  apiKeyCreateSchema,
  apiKeyRotateSchema,
  apiKeySchema,
  issuedApiKeySchema,
  tenantCreateSchema,
  tenantSchema,
  tenantUpdateSchema,
} from '../schemas/admin.ts';

const tags = ['admin'];
const issued = ({ record, key }: IssuedApiKey) => ({ ...record, key });

// Platform-level kinds: tenants and keys are not inside a tenant, so their lookups ignore the caller's (empty) tenant.
const tenants = resourceKind({
  name: 'tenant',
  params: idParams('tenant_id'),
  idParam: 'tenant_id',
  find: (pool, _tenantId, params) => getTenant(pool, params.tenant_id),
});
const apiKeys = resourceKind({
  name: 'API key',
  params: idParams('api_key_id'),
  idParam: 'api_key_id',
  find: (pool, _tenantId, params) => getApiKey(pool, params.api_key_id),
});

export function registerAdminRoutes(app: ZodApp, { pool, config }: ApiContext): void {
  const defaults = limitDefaults(config);
  const view = (tenant: TenantRecord) => ({
    ...tenant,
    effective_limits: effectiveTenantLimits(defaults, tenant.limits),
  });

  crudRoutes(app, pool, { kind: tenants, path: '/v1/admin/tenants', tags, schema: tenantSchema })
    .create({ summary: 'Create a tenant', body: tenantCreateSchema }, async ({ body }) =>
      view(await createTenant(pool, body.name, body.limits)),
    )
    .retrieve({ summary: 'Get a tenant' }, async ({ params }) => {
      const tenant = await getTenant(pool, params.tenant_id);
      return tenant && view(tenant);
    })
    .update(
      {
        summary:
          "Rename a tenant or replace its limits (quotas and rate limits; absent fields: the platform's defaults)",
        body: tenantUpdateSchema,
      },
      async ({ params, body }) => {
        const tenant = await updateTenant(pool, params.tenant_id, body);
        return tenant && view(tenant);
      },
    )
    .list({ summary: 'List tenants' }, async ({ query }) => {
      const page = await listTenants(pool, { limit: query.limit, page: query.page });
      return { ...page, data: page.data.map(view) };
    });

  crudRoutes(app, pool, {
    kind: apiKeys,
    parent: tenants,
    path: '/v1/admin/tenants/:tenant_id/api_keys',
    tags,
    schema: issuedApiKeySchema,
  }).create(
    { summary: "Create a tenant's API key (the secret is in this response only)", body: apiKeyCreateSchema },
    async ({ body, parent: tenant }) => issued(await issueApiKey(pool, { tenantId: tenant.id, ...body })),
  );
  crudRoutes(app, pool, {
    kind: apiKeys,
    parent: tenants,
    path: '/v1/admin/tenants/:tenant_id/api_keys',
    tags,
    schema: apiKeySchema,
  }).list(
    { summary: "List a tenant's API keys (include_archived=true: revoked ones too)" },
    async ({ query, parent: tenant }) =>
      listApiKeys(pool, tenant.id, { limit: query.limit, page: query.page, includeArchived: query.include_archived }),
  );

  crudRoutes(app, pool, { kind: apiKeys, path: '/v1/admin/admin_keys', tags, schema: issuedApiKeySchema }).create(
    { summary: 'Create another admin key (the secret is in this response only)', body: adminKeyCreateSchema },
    async ({ body }) => issued(await issueApiKey(pool, { tenantId: null, name: body.name, scope: 'admin' })),
  );
  crudRoutes(app, pool, { kind: apiKeys, path: '/v1/admin/admin_keys', tags, schema: apiKeySchema }).list(
    { summary: 'List admin keys' },
    async ({ query }) =>
      listApiKeys(pool, null, { limit: query.limit, page: query.page, includeArchived: query.include_archived }),
  );

  crudRoutes(app, pool, { kind: apiKeys, path: '/v1/admin/api_keys', tags, schema: apiKeySchema }).retrieve({
    summary: 'Get an API key',
  });

  app.post(
    '/v1/admin/api_keys/:api_key_id/revoke',
    {
      schema: {
        tags,
        summary: 'Revoke an API key (401 from the next request)',
        params: apiKeys.params,
        response: { 200: apiKeySchema },
      },
    },
    async (request) =>
      orNotFound(await revokeApiKey(pool, request.params.api_key_id), 'API key', request.params.api_key_id),
  );

  app.post(
    '/v1/admin/api_keys/:api_key_id/rotate',
    {
      schema: {
        tags,
        summary: 'Replace an API key with a new one (same tenant, name, scope); the old one ends after grace_seconds',
        params: apiKeys.params,
        body: apiKeyRotateSchema,
        response: { 200: issuedApiKeySchema },
      },
    },
    async (request) => {
      const { api_key_id: id } = request.params;
      // A revoked or already rotated key is a ConflictError: 409 (api/errors.ts).
      return issued(orNotFound(await rotateApiKey(pool, id, request.body?.grace_seconds ?? 0), 'API key', id));
    },
  );
}
