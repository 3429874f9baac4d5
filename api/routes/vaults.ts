// /v1/vaults and their credentials. Secrets are write-only: sealed on the way in, never in a response.
import { z } from 'zod';
import { patchMetadata } from '../../db/repositories/pagination.ts';
import {
  archiveCredential,
  archiveVault,
  createCredential,
  createVault,
  deleteCredential,
  deleteVault,
  getCredential,
  getVault,
  listCredentials,
  listVaults,
  openCredentialSecret,
  updateCredential,
  updateVault,
} from '../../db/repositories/vaults.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { mergeAuth, splitAuth } from '../credential-auth.ts';
import { notFound } from '../errors.ts';
import { deletedSchema, listQuerySchema, pageSchema } from '../schemas/common.ts';
import {
  credentialCreateSchema,
  credentialSchema,
  credentialUpdateSchema,
  vaultCreateSchema,
  vaultSchema,
  vaultUpdateSchema,
} from '../schemas/vaults.ts';

const vaultParams = z.object({ vault_id: z.string().min(1).max(128) });
const credentialParams = vaultParams.extend({ credential_id: z.string().min(1).max(128) });
const tags = ['vaults'];

export function registerVaultRoutes(app: ZodApp, { pool, secretBox }: ApiContext): void {
  const requireVault = async (tenantId: string, vaultId: string) => {
    const vault = await getVault(pool, tenantId, vaultId);
    if (!vault) throw notFound('vault', vaultId);
    return vault;
  };

  app.post(
    '/v1/vaults',
    { schema: { tags, summary: 'Create a vault', body: vaultCreateSchema, response: { 200: vaultSchema } } },
    async (request) =>
      createVault(pool, request.tenantId, {
        display_name: request.body.display_name,
        metadata: request.body.metadata ?? {},
      }),
  );

  app.get(
    '/v1/vaults/:vault_id',
    { schema: { tags, summary: 'Get a vault', params: vaultParams, response: { 200: vaultSchema } } },
    async (request) => requireVault(request.tenantId, request.params.vault_id),
  );

  app.post(
    '/v1/vaults/:vault_id',
    {
      schema: {
        tags,
        summary: 'Update a vault',
        params: vaultParams,
        body: vaultUpdateSchema,
        response: { 200: vaultSchema },
      },
    },
    async (request) => {
      const current = await requireVault(request.tenantId, request.params.vault_id);
      const vault = await updateVault(pool, request.tenantId, current.id, {
        display_name: request.body.display_name ?? current.display_name,
        metadata: patchMetadata(current.metadata, request.body.metadata),
      });
      if (!vault) throw notFound('vault', current.id);
      return vault;
    },
  );

  app.get(
    '/v1/vaults',
    {
      schema: {
        tags,
        summary: 'List vaults',
        querystring: listQuerySchema,
        response: { 200: pageSchema(vaultSchema) },
      },
    },
    async (request) =>
      listVaults(pool, request.tenantId, {
        limit: request.query.limit,
        page: request.query.page,
        includeArchived: request.query.include_archived,
      }),
  );

  app.delete(
    '/v1/vaults/:vault_id',
    {
      schema: {
        tags,
        summary: 'Delete a vault and its credentials',
        params: vaultParams,
        response: { 200: deletedSchema('vault_deleted') },
      },
    },
    async (request) => {
      if (!(await deleteVault(pool, request.tenantId, request.params.vault_id))) {
        throw notFound('vault', request.params.vault_id);
      }
      return { id: request.params.vault_id, type: 'vault_deleted' as const };
    },
  );

  app.post(
    '/v1/vaults/:vault_id/archive',
    { schema: { tags, summary: 'Archive a vault', params: vaultParams, response: { 200: vaultSchema } } },
    async (request) => {
      const vault = await archiveVault(pool, request.tenantId, request.params.vault_id);
      if (!vault) throw notFound('vault', request.params.vault_id);
      return vault;
    },
  );

  // ---- credentials -------------------------------------------------------------------------------------------------

  app.post(
    '/v1/vaults/:vault_id/credentials',
    {
      schema: {
        tags,
        summary: 'Create a credential (its secret is write-only)',
        params: vaultParams,
        body: credentialCreateSchema,
        response: { 200: credentialSchema },
      },
    },
    async (request) => {
      const vault = await requireVault(request.tenantId, request.params.vault_id);
      const split = splitAuth(request.body.auth);
      return createCredential(pool, secretBox, request.tenantId, vault.id, {
        display_name: request.body.display_name ?? null,
        metadata: request.body.metadata ?? {},
        ...split,
      });
    },
  );

  app.get(
    '/v1/vaults/:vault_id/credentials/:credential_id',
    { schema: { tags, summary: 'Get a credential', params: credentialParams, response: { 200: credentialSchema } } },
    async (request) => {
      const credential = await getCredential(
        pool,
        request.tenantId,
        request.params.vault_id,
        request.params.credential_id,
      );
      if (!credential) throw notFound('credential', request.params.credential_id);
      return credential;
    },
  );

  app.post(
    '/v1/vaults/:vault_id/credentials/:credential_id',
    {
      schema: {
        tags,
        summary: 'Update a credential (rotate its secret)',
        params: credentialParams,
        body: credentialUpdateSchema,
        response: { 200: credentialSchema },
      },
    },
    async (request) => {
      const { tenantId } = request;
      const { vault_id: vaultId, credential_id: credentialId } = request.params;
      const current = await getCredential(pool, tenantId, vaultId, credentialId);
      if (!current) throw notFound('credential', credentialId);
      let merged: { auth: Record<string, unknown>; secret: Record<string, unknown> } | undefined;
      if (request.body.auth) {
        const secret = (await openCredentialSecret(pool, secretBox, tenantId, credentialId)) ?? {};
        merged = mergeAuth(current.auth, secret, request.body.auth);
      }
      const updated = await updateCredential(pool, secretBox, tenantId, vaultId, credentialId, {
        display_name: request.body.display_name === undefined ? current.display_name : request.body.display_name,
        metadata: patchMetadata(current.metadata, request.body.metadata),
        auth: merged?.auth,
        secret: merged?.secret,
      });
      if (!updated) throw notFound('credential', credentialId);
      return updated;
    },
  );

  app.get(
    '/v1/vaults/:vault_id/credentials',
    {
      schema: {
        tags,
        summary: 'List credentials',
        params: vaultParams,
        querystring: listQuerySchema,
        response: { 200: pageSchema(credentialSchema) },
      },
    },
    async (request) => {
      const vault = await requireVault(request.tenantId, request.params.vault_id);
      return listCredentials(pool, request.tenantId, vault.id, {
        limit: request.query.limit,
        page: request.query.page,
        includeArchived: request.query.include_archived,
      });
    },
  );

  app.delete(
    '/v1/vaults/:vault_id/credentials/:credential_id',
    {
      schema: {
        tags,
        summary: 'Delete a credential',
        params: credentialParams,
        response: { 200: deletedSchema('vault_credential_deleted') },
      },
    },
    async (request) => {
      const { vault_id: vaultId, credential_id: credentialId } = request.params;
      if (!(await deleteCredential(pool, request.tenantId, vaultId, credentialId)))
        throw notFound('credential', credentialId);
      return { id: credentialId, type: 'vault_credential_deleted' as const };
    },
  );

  app.post(
    '/v1/vaults/:vault_id/credentials/:credential_id/archive',
    {
      schema: { tags, summary: 'Archive a credential', params: credentialParams, response: { 200: credentialSchema } },
    },
    async (request) => {
      const { vault_id: vaultId, credential_id: credentialId } = request.params;
      const credential = await archiveCredential(pool, request.tenantId, vaultId, credentialId);
      if (!credential) throw notFound('credential', credentialId);
      return credential;
    },
  );
}
