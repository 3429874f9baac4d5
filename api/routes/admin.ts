// /v1/admin/…: the platform team's routes (admin keys only; api/auth.ts): tenants, and their API keys — created with
// a scope, listed with their last use, revoked at once, rotated with an optional grace period for the old key.
import { z } from 'zod';
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
import { notFound } from '../errors.ts';
import { listQuerySchema, pageSchema } from '../schemas/common.ts';
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
const tenantParams = z.object({ tenant_id: z.string().min(1).max(128) });
const keyParams = z.object({ api_key_id: z.string().min(1).max(128) });
const issued = ({ record, key }: IssuedApiKey) => ({ ...record, key });

export function registerAdminRoutes(app: ZodApp, { pool, config }: ApiContext): void {
  const defaults = limitDefaults(config);
  const view = (tenant: TenantRecord) => ({
    ...tenant,
    effective_limits: effectiveTenantLimits(defaults, tenant.limits),
  });
  const requireTenant = async (id: string) => {
    const tenant = await getTenant(pool, id);
    if (!tenant) throw notFound('tenant', id);
    return view(tenant);
  };
  const requireKey = async (id: string) => {
    const key = await getApiKey(pool, id);
    if (!key) throw notFound('API key', id);
    return key;
  };

  app.post(
    '/v1/admin/tenants',
    { schema: { tags, summary: 'Create a tenant', body: tenantCreateSchema, response: { 200: tenantSchema } } },
    async (request) => view(await createTenant(pool, request.body.name, request.body.limits)),
  );

  app.post(
    '/v1/admin/tenants/:tenant_id',
    {
      schema: {
        tags,
        summary:
          "Rename a tenant or replace its limits (quotas and rate limits; absent fields: the platform's defaults)",
        params: tenantParams,
        body: tenantUpdateSchema,
        response: { 200: tenantSchema },
      },
    },
    async (request) => {
      const tenant = await updateTenant(pool, request.params.tenant_id, request.body);
      if (!tenant) throw notFound('tenant', request.params.tenant_id);
      return view(tenant);
    },
  );

  app.get(
    '/v1/admin/tenants',
    {
      schema: {
        tags,
        summary: 'List tenants',
        querystring: listQuerySchema,
        response: { 200: pageSchema(tenantSchema) },
      },
    },
    async (request) => {
      const page = await listTenants(pool, { limit: request.query.limit, page: request.query.page });
      return { ...page, data: page.data.map(view) };
    },
  );

  app.get(
    '/v1/admin/tenants/:tenant_id',
    { schema: { tags, summary: 'Get a tenant', params: tenantParams, response: { 200: tenantSchema } } },
    async (request) => requireTenant(request.params.tenant_id),
  );

  app.post(
    '/v1/admin/tenants/:tenant_id/api_keys',
    {
      schema: {
        tags,
        summary: "Create a tenant's API key (the secret is in this response only)",
        params: tenantParams,
        body: apiKeyCreateSchema,
        response: { 200: issuedApiKeySchema },
      },
    },
    async (request) => {
      const tenant = await requireTenant(request.params.tenant_id);
      return issued(await issueApiKey(pool, { tenantId: tenant.id, ...request.body }));
    },
  );

  app.get(
    '/v1/admin/tenants/:tenant_id/api_keys',
    {
      schema: {
        tags,
        summary: "List a tenant's API keys (include_archived=true: revoked ones too)",
        params: tenantParams,
        querystring: listQuerySchema,
        response: { 200: pageSchema(apiKeySchema) },
      },
    },
    async (request) => {
      const tenant = await requireTenant(request.params.tenant_id);
      const { limit, page, include_archived: includeArchived } = request.query;
      return listApiKeys(pool, tenant.id, { limit, page, includeArchived });
    },
  );

  app.post(
    '/v1/admin/admin_keys',
    {
      schema: {
        tags,
        summary: 'Create another admin key (the secret is in this response only)',
        body: adminKeyCreateSchema,
        response: { 200: issuedApiKeySchema },
      },
    },
    async (request) => issued(await issueApiKey(pool, { tenantId: null, name: request.body.name, scope: 'admin' })),
  );

  app.get(
    '/v1/admin/admin_keys',
    {
      schema: {
        tags,
        summary: 'List admin keys',
        querystring: listQuerySchema,
        response: { 200: pageSchema(apiKeySchema) },
      },
    },
    async (request) => {
      const { limit, page, include_archived: includeArchived } = request.query;
      return listApiKeys(pool, null, { limit, page, includeArchived });
    },
  );

  app.get(
    '/v1/admin/api_keys/:api_key_id',
    { schema: { tags, summary: 'Get an API key', params: keyParams, response: { 200: apiKeySchema } } },
    async (request) => requireKey(request.params.api_key_id),
  );

  app.post(
    '/v1/admin/api_keys/:api_key_id/revoke',
    {
      schema: {
        tags,
        summary: 'Revoke an API key (401 from the next request)',
        params: keyParams,
        response: { 200: apiKeySchema },
      },
    },
    async (request) => {
      const revoked = await revokeApiKey(pool, request.params.api_key_id);
      if (!revoked) throw notFound('API key', request.params.api_key_id);
      return revoked;
    },
  );

  app.post(
    '/v1/admin/api_keys/:api_key_id/rotate',
    {
      schema: {
        tags,
        summary: 'Replace an API key with a new one (same tenant, name, scope); the old one ends after grace_seconds',
        params: keyParams,
        body: apiKeyRotateSchema,
        response: { 200: issuedApiKeySchema },
      },
    },
    async (request) => {
      // A revoked or already rotated key is a ConflictError: 409 (api/errors.ts).
      const rotated = await rotateApiKey(pool, request.params.api_key_id, request.body?.grace_seconds ?? 0);
      if (!rotated) throw notFound('API key', request.params.api_key_id);
      return issued(rotated);
    },
  );
}
