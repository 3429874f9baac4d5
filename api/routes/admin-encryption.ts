// /v1/admin/… for key rotation (admin keys only; the project's own resource): a tenant's payload data keys (new ones
// encrypt new payloads, old ones keep decrypting) and re-sealing every vault secret under the current vault key.
import type { TenantKeyring } from '../../codec/tenant-keyring.ts';
import { resealAllSecrets } from '../../db/repositories/sealed-secrets.ts';
import { listDataKeys, type WrappedDataKey } from '../../db/repositories/tenant-data-keys.ts';
import { getTenant } from '../../db/repositories/tenants.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { idParams, orNotFound } from '../resources.ts';
import { dataKeyListSchema, dataKeySchema, vaultResealSchema } from '../schemas/admin.ts';

const tags = ['admin'];
const view = (key: Pick<WrappedDataKey, 'id' | 'tenantId' | 'wrappingKeyId'> & { createdAt?: Date }) => ({
  id: key.id,
  type: 'tenant_data_key' as const,
  tenant_id: key.tenantId,
  wrapping_key_id: key.wrappingKeyId,
  created_at: (key.createdAt ?? new Date()).toISOString(),
});

export function registerAdminEncryptionRoutes(
  app: ZodApp,
  { pool, secretBox }: ApiContext,
  keyring: TenantKeyring,
): void {
  const params = idParams('tenant_id');

  app.post(
    '/v1/admin/tenants/:tenant_id/data_keys',
    {
      schema: {
        tags,
        summary:
          "Rotate a tenant's payload data key: a new key encrypts its new payloads (every process within " +
          'AGENTS_TENANT_KEY_REFRESH_SECONDS); the old ones keep decrypting',
        params,
        response: { 200: dataKeySchema },
      },
    },
    async (request) => {
      const tenant = orNotFound(await getTenant(pool, request.params.tenant_id), 'tenant', request.params.tenant_id);
      return view(await keyring.rotate(tenant.id));
    },
  );

  app.get(
    '/v1/admin/tenants/:tenant_id/data_keys',
    {
      schema: {
        tags,
        summary: "List a tenant's payload data keys, newest (the one in use) first; only ids, never key material",
        params,
        response: { 200: dataKeyListSchema },
      },
    },
    async (request) => {
      const tenant = orNotFound(await getTenant(pool, request.params.tenant_id), 'tenant', request.params.tenant_id);
      return { data: (await listDataKeys(pool, tenant.id)).map(view) };
    },
  );

  app.post(
    '/v1/admin/vault_key/reseal',
    {
      schema: {
        tags,
        summary:
          'Re-seal every secret at rest (vault credentials, webhook secrets, the egress CA key) under the current ' +
          'vault key: the step of a vault-key rotation before the old key is dropped',
        response: { 200: vaultResealSchema },
      },
    },
    async () => ({
      type: 'vault_key_reseal' as const,
      key_id: secretBox.currentKeyId,
      ...(await resealAllSecrets(pool, secretBox)),
    }),
  );
}
