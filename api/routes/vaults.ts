// /v1/vaults and their credentials. Secrets are write-only: sealed on the way in, never in a response.
import { patchMetadata } from '../../db/repositories/pagination.ts';
import {
  archiveCredential,
  archiveVault,
  createCredential,
  createVault,
  deleteCredential,
  deleteVault,
  listCredentials,
  listVaults,
  openCredentialSecret,
  updateCredential,
  updateVault,
} from '../../db/repositories/vaults.ts';
import { validateMcpOAuthCredential } from '../../activities/mcp/credential-probe.ts';
import { McpCredentials } from '../../activities/mcp/credentials.ts';
import { resolveSessionCredentials } from '../../db/repositories/vault-secrets.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { invalidRequest } from '../errors.ts';
import { assertCredentialUrls } from '../tenant-urls.ts';
import { mergeAuth, splitAuth } from '../credential-auth.ts';
import { crudRoutes } from '../crud-routes.ts';
import { credentials, vaults } from '../resources.ts';
import {
  credentialCreateSchema,
  credentialSchema,
  credentialUpdateSchema,
  credentialValidationSchema,
  vaultCreateSchema,
  vaultSchema,
  vaultUpdateSchema,
} from '../schemas/vaults.ts';

const tags = ['vaults'];

export function registerVaultRoutes(app: ZodApp, { pool, secretBox, urlGuard }: ApiContext): void {
  const mcpCredentials = new McpCredentials({ pool, secretBox, urlGuard });
  crudRoutes(app, pool, { kind: vaults, path: '/v1/vaults', tags, schema: vaultSchema })
    .create({ summary: 'Create a vault', body: vaultCreateSchema }, async ({ tenantId, body, id }) =>
      createVault(pool, tenantId, { display_name: body.display_name, metadata: body.metadata ?? {} }, id),
    )
    .retrieve({ summary: 'Get a vault' })
    .update({ summary: 'Update a vault', body: vaultUpdateSchema }, async ({ tenantId, params, body }) => {
      const current = await vaults.require(pool, tenantId, params);
      return updateVault(pool, tenantId, current.id, {
        display_name: body.display_name ?? current.display_name,
        metadata: patchMetadata(current.metadata, body.metadata),
      });
    })
    .list({ summary: 'List vaults' }, async ({ tenantId, query }) =>
      listVaults(pool, tenantId, { limit: query.limit, page: query.page, includeArchived: query.include_archived }),
    )
    .remove(
      { summary: 'Delete a vault and its credentials', deletedType: 'vault_deleted' },
      async ({ tenantId, params }) => deleteVault(pool, tenantId, params.vault_id),
    )
    .archive({ summary: 'Archive a vault' }, async ({ tenantId, params }) =>
      archiveVault(pool, tenantId, params.vault_id),
    );

  crudRoutes(app, pool, {
    kind: credentials,
    parent: vaults,
    path: '/v1/vaults/:vault_id/credentials',
    tags,
    schema: credentialSchema,
  })
    .create(
      { summary: 'Create a credential (its secret is write-only)', body: credentialCreateSchema },
      async ({ tenantId, body, parent: vault, id }) => {
        await assertCredentialUrls(urlGuard, body.auth);
        const fields = {
          display_name: body.display_name ?? null,
          metadata: body.metadata ?? {},
          ...splitAuth(body.auth),
        };
        return createCredential(pool, secretBox, tenantId, vault.id, fields, id);
      },
    )
    .retrieve({ summary: 'Get a credential' })
    .update(
      { summary: 'Update a credential (rotate its secret)', body: credentialUpdateSchema },
      async ({ tenantId, params, body }) => {
        const current = await credentials.require(pool, tenantId, params);
        const { vault_id: vaultId, credential_id: credentialId } = params;
        let merged: { auth: Record<string, unknown>; secret: Record<string, unknown> } | undefined;
        if (body.auth) {
          const secret = (await openCredentialSecret(pool, secretBox, tenantId, credentialId)) ?? {};
          merged = mergeAuth(current.auth, secret, body.auth);
        }
        return updateCredential(pool, secretBox, tenantId, vaultId, credentialId, {
          display_name: body.display_name === undefined ? current.display_name : body.display_name,
          metadata: patchMetadata(current.metadata, body.metadata),
          auth: merged?.auth,
          secret: merged?.secret,
        });
      },
    )
    .list({ summary: 'List credentials' }, async ({ tenantId, query, parent: vault }) =>
      listCredentials(pool, tenantId, vault.id, {
        limit: query.limit,
        page: query.page,
        includeArchived: query.include_archived,
      }),
    )
    .remove({ summary: 'Delete a credential', deletedType: 'vault_credential_deleted' }, async ({ tenantId, params }) =>
      deleteCredential(pool, tenantId, params.vault_id, params.credential_id),
    )
    .archive({ summary: 'Archive a credential' }, async ({ tenantId, params }) =>
      archiveCredential(pool, tenantId, params.vault_id, params.credential_id),
    );

  app.post(
    '/v1/vaults/:vault_id/credentials/:credential_id/mcp_oauth_validate',
    {
      schema: {
        tags,
        summary: 'Validate an mcp_oauth credential live against its MCP server (refreshing once on a 401)',
        params: credentials.params,
        response: { 200: credentialValidationSchema },
      },
    },
    async ({ tenantId, params }) => {
      const current = await credentials.require(pool, tenantId, params);
      if (current.auth.type !== 'mcp_oauth') throw invalidRequest('only mcp_oauth credentials can be validated');
      const [opened] = await resolveSessionCredentials(pool, secretBox, tenantId, [params.vault_id], {
        authKey: String(current.auth.mcp_server_url),
      });
      if (!opened || opened.id !== current.id) throw invalidRequest('an archived credential cannot be validated');
      return validateMcpOAuthCredential(mcpCredentials, urlGuard.fetch, tenantId, opened);
    },
  );
}
