// Admin schemas (the project's own resource, not Anthropic's): tenants and their API keys. A key's secret appears in
// exactly one response — the one that creates it (create or rotate).
import { z } from 'zod';
import { keyLimitsSchema, tenantLimitsSchema } from '../../domain/tenant-limits.ts';

export const tenantCreateSchema = z.object({
  name: z.string().min(1).max(256),
  limits: tenantLimitsSchema.optional(),
});

export const tenantUpdateSchema = z.object({
  name: z.string().min(1).max(256).optional(),
  /** Replaces the tenant's overrides; a field left out takes the platform default. */
  limits: tenantLimitsSchema.optional(),
});

export const tenantSchema = z
  .object({
    id: z.string(),
    type: z.literal('tenant'),
    name: z.string(),
    limits: tenantLimitsSchema,
    effective_limits: tenantLimitsSchema.required(),
    created_at: z.string(),
  })
  .meta({ id: 'Tenant' });

export const apiKeyCreateSchema = z.object({
  name: z.string().min(1).max(256).default('default'),
  /** `full`: everything the tenant may do; `read_only`: GET only — no events sent, nothing created or changed. */
  scope: z.enum(['full', 'read_only']).default('full'),
  limits: keyLimitsSchema.optional(),
});

export const adminKeyCreateSchema = z.object({ name: z.string().min(1).max(256).default('admin') });

export const apiKeyRotateSchema = z
  .object({
    /** How long the old key keeps working, so callers can switch without downtime (default 0: stops at once). */
    grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(0),
  })
  .nullish();

export const apiKeySchema = z
  .object({
    id: z.string(),
    type: z.literal('api_key'),
    tenant_id: z.string().nullable(),
    name: z.string(),
    scope: z.enum(['full', 'read_only', 'admin']),
    hint: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable().describe('moves at most once a minute'),
    revoked_at: z.string().nullable(),
    expires_at: z.string().nullable(),
    rotated_to: z.string().nullable(),
    limits: keyLimitsSchema,
  })
  .meta({ id: 'ApiKey' });

export const issuedApiKeySchema = apiKeySchema
  .extend({ key: z.string().describe('the secret: shown this once, stored only as a hash') })
  .meta({ id: 'IssuedApiKey' });

export const dataKeySchema = z
  .object({
    id: z.string(),
    type: z.literal('tenant_data_key'),
    tenant_id: z.string(),
    wrapping_key_id: z.string().describe('the platform payload key (AGENTS_PAYLOAD_KEYS) that wraps it'),
    created_at: z.string(),
  })
  .meta({ id: 'TenantDataKey' });

export const dataKeyListSchema = z.object({ data: z.array(dataKeySchema) }).meta({ id: 'TenantDataKeyList' });

export const vaultResealSchema = z
  .object({
    type: z.literal('vault_key_reseal'),
    key_id: z.string().describe('fingerprint of the current vault key, which every sealed secret is now under'),
    resealed: z.number().int(),
    unchanged: z.number().int(),
    unreadable: z.number().int().describe('rows no configured key opens: keep the key that sealed them'),
  })
  .meta({ id: 'VaultKeyReseal' });
