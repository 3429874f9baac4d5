// Vault and credential schemas. Secret fields (token, access_token, refresh_token, client_secret, secret_value)
// are accepted on create/update and never appear in a response schema.
import { z } from 'zod';
import { allowedHost, metadataPatchSchema, metadataSchema } from './common.ts';

export const vaultCreateSchema = z.object({
  display_name: z.string().min(1).max(255),
  metadata: metadataSchema.optional(),
});

export const vaultUpdateSchema = z.object({
  display_name: z.string().min(1).max(255).nullish(),
  metadata: metadataPatchSchema.nullish(),
});

export const vaultSchema = z
  .object({
    id: z.string(),
    type: z.literal('vault'),
    display_name: z.string(),
    metadata: z.record(z.string(), z.string()),
    created_at: z.string(),
    updated_at: z.string(),
    archived_at: z.string().nullable(),
  })
  .meta({ id: 'Vault' });

const secret = z.string().min(1).max(16_384);

const tokenEndpointAuth = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({ type: z.literal('client_secret_basic'), client_secret: secret }),
  z.object({ type: z.literal('client_secret_post'), client_secret: secret }),
]);

const credentialNetworking = z.discriminatedUnion('type', [
  z.object({ type: z.literal('unrestricted') }),
  // As the API: up to 16 entries, each a host name, an IPv4 address or a `*.` wildcard.
  z.object({ type: z.literal('limited'), allowed_hosts: z.array(allowedHost).min(1).max(16) }),
]);

export const credentialAuthCreateSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('static_bearer'), mcp_server_url: z.url(), token: secret }),
  z.object({
    type: z.literal('mcp_oauth'),
    mcp_server_url: z.url(),
    access_token: secret,
    expires_at: z.iso.datetime({ offset: true }).nullish(),
    refresh: z
      .object({
        client_id: z.string().min(1).max(1024),
        refresh_token: secret,
        token_endpoint: z.url(),
        token_endpoint_auth: tokenEndpointAuth,
        resource: z.string().max(2048).nullish(),
        scope: z.string().max(2048).nullish(),
      })
      .nullish(),
  }),
  z.object({
    type: z.literal('environment_variable'),
    secret_name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/),
    secret_value: secret,
    networking: credentialNetworking,
    injection_location: z.object({ header: z.boolean().optional(), body: z.boolean().optional() }).optional(),
  }),
]);
export type CredentialAuthCreate = z.infer<typeof credentialAuthCreateSchema>;

export const credentialAuthUpdateSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('static_bearer'), token: secret.nullish() }),
  z.object({
    type: z.literal('mcp_oauth'),
    access_token: secret.nullish(),
    expires_at: z.iso.datetime({ offset: true }).nullish(),
    refresh: z
      .object({
        refresh_token: secret.nullish(),
        scope: z.string().max(2048).nullish(),
        token_endpoint_auth: z
          .discriminatedUnion('type', [
            z.object({ type: z.literal('client_secret_basic'), client_secret: secret.nullish() }),
            z.object({ type: z.literal('client_secret_post'), client_secret: secret.nullish() }),
          ])
          .optional(),
      })
      .nullish(),
  }),
  z.object({
    type: z.literal('environment_variable'),
    secret_value: secret.nullish(),
    networking: credentialNetworking.nullish(),
    injection_location: z.object({ header: z.boolean().optional(), body: z.boolean().optional() }).optional(),
  }),
]);
export type CredentialAuthUpdate = z.infer<typeof credentialAuthUpdateSchema>;

export const credentialCreateSchema = z.object({
  auth: credentialAuthCreateSchema,
  display_name: z.string().max(255).nullish(),
  metadata: metadataSchema.optional(),
});

export const credentialUpdateSchema = z.object({
  auth: credentialAuthUpdateSchema.optional(),
  display_name: z.string().max(255).nullish(),
  metadata: metadataPatchSchema.nullish(),
});

export const credentialSchema = z
  .object({
    id: z.string(),
    type: z.literal('vault_credential'),
    vault_id: z.string(),
    display_name: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    auth: z.record(z.string(), z.unknown()).describe('the public part of auth: secrets are never returned'),
    created_at: z.string(),
    updated_at: z.string(),
    archived_at: z.string().nullable(),
  })
  .meta({ id: 'VaultCredential' });

const capturedResponseSchema = z.object({
  status_code: z.number().int(),
  content_type: z.string(),
  body: z.string(),
  body_truncated: z.boolean(),
});

export const credentialValidationSchema = z
  .object({
    type: z.literal('vault_credential_validation'),
    credential_id: z.string(),
    vault_id: z.string(),
    status: z.enum(['valid', 'invalid', 'unknown']),
    has_refresh_token: z.boolean(),
    mcp_probe: z.object({ method: z.string(), http_response: capturedResponseSchema.nullable() }).nullable(),
    refresh: z
      .object({
        status: z.enum(['succeeded', 'failed', 'connect_error', 'no_refresh_token']),
        http_response: capturedResponseSchema.nullable(),
      })
      .nullable(),
    validated_at: z.string(),
  })
  .meta({ id: 'VaultCredentialValidation' });
