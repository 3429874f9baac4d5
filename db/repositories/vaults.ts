// Vaults and their credentials. A credential's secret fields are split off before storage, sealed with SecretBox
// (bound to the credential id) and never read back by the API: responses show only the public part.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { ConflictError } from '../../domain/errors.ts';
import { makeId } from '../../domain/ids.ts';
import { isoOrNull, type ListOptions, type Metadata, type Page } from './pagination.ts';
import { tenantTable } from './tenant-table.ts';
import type { SecretBox } from './secret-box.ts';

export interface VaultRecord {
  id: string;
  type: 'vault';
  display_name: string;
  metadata: Metadata;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
}

interface VaultRow {
  id: string;
  position: string;
  display_name: string;
  metadata: Metadata;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

const toVault = (row: VaultRow): VaultRecord => ({
  id: row.id,
  type: 'vault',
  display_name: row.display_name,
  metadata: row.metadata,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
  archived_at: isoOrNull(row.archived_at),
});

const vaults = tenantTable({ table: 'vaults', toRecord: toVault });

export async function createVault(
  pool: pg.Pool,
  tenantId: string,
  fields: { display_name: string; metadata: Metadata },
  id = makeId('vault', randomUUID()),
): Promise<VaultRecord> {
  const { rows } = await pool.query<VaultRow>(
    'insert into vaults (id, tenant_id, display_name, metadata) values ($1, $2, $3, $4) returning *',
    [id, tenantId, fields.display_name, fields.metadata],
  );
  return toVault(rows[0] as VaultRow);
}

export const getVault = (pool: pg.Pool, tenantId: string, id: string): Promise<VaultRecord | undefined> =>
  vaults.get(pool, { tenant_id: tenantId, id });

/** Which of `ids` are this tenant's live (unarchived) vaults. */
export async function existingVaultIds(pool: pg.Pool, tenantId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await pool.query<{ id: string }>(
    'select id from vaults where tenant_id = $1 and id = any($2) and archived_at is null',
    [tenantId, ids],
  );
  return new Set(rows.map((row) => row.id));
}

export async function updateVault(
  pool: pg.Pool,
  tenantId: string,
  id: string,
  fields: { display_name: string; metadata: Metadata },
): Promise<VaultRecord | undefined> {
  const { rows } = await pool.query<VaultRow>(
    `update vaults set display_name = $3, metadata = $4, updated_at = now() where tenant_id = $1 and id = $2 returning *`,
    [tenantId, id, fields.display_name, fields.metadata],
  );
  return rows[0] ? toVault(rows[0]) : undefined;
}

export const archiveVault = (pool: pg.Pool, tenantId: string, id: string): Promise<VaultRecord | undefined> =>
  vaults.archive(pool, { tenant_id: tenantId, id });

export const deleteVault = (pool: pg.Pool, tenantId: string, id: string): Promise<boolean> =>
  vaults.remove(pool, { tenant_id: tenantId, id });

export const listVaults = (pool: pg.Pool, tenantId: string, options: ListOptions): Promise<Page<VaultRecord>> =>
  vaults.list(pool, { tenant_id: tenantId }, options);

// ---- credentials ---------------------------------------------------------------------------------------------------

export interface CredentialRecord {
  id: string;
  type: 'vault_credential';
  vault_id: string;
  display_name: string | null;
  metadata: Metadata;
  auth: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
}

export interface CredentialFields {
  display_name: string | null;
  metadata: Metadata;
  /** The public part of `auth`. */
  auth: Record<string, unknown> & { type: string };
  /** Uniqueness key within the vault (`mcp_server_url` or `secret_name`). */
  authKey: string;
  /** Secret fields, sealed before they reach the database. */
  secret: Record<string, unknown>;
}

interface CredentialRow {
  id: string;
  position: string;
  vault_id: string;
  display_name: string | null;
  metadata: Metadata;
  auth: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

const credentialColumns = 'id, position, vault_id, display_name, metadata, auth, created_at, updated_at, archived_at';

const toCredential = (row: CredentialRow): CredentialRecord => ({
  id: row.id,
  type: 'vault_credential',
  vault_id: row.vault_id,
  display_name: row.display_name,
  metadata: row.metadata,
  auth: row.auth,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
  archived_at: isoOrNull(row.archived_at),
});

const credentials = tenantTable({ table: 'vault_credentials', toRecord: toCredential, columns: credentialColumns });

const isUniqueViolation = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && 'code' in error && error.code === '23505';

export async function createCredential(
  pool: pg.Pool,
  box: SecretBox,
  tenantId: string,
  vaultId: string,
  fields: CredentialFields,
  id = makeId('credential', randomUUID()),
): Promise<CredentialRecord> {
  try {
    const { rows } = await pool.query<CredentialRow>(
      `insert into vault_credentials (id, tenant_id, vault_id, display_name, metadata, auth, auth_key, secret)
       values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${credentialColumns}`,
      [
        id,
        tenantId,
        vaultId,
        fields.display_name,
        fields.metadata,
        fields.auth,
        fields.authKey,
        box.seal(JSON.stringify(fields.secret), id),
      ],
    );
    return toCredential(rows[0] as CredentialRow);
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ConflictError('a credential for this server (or secret name) already exists in the vault');
    throw error;
  }
}

export const getCredential = (
  pool: pg.Pool,
  tenantId: string,
  vaultId: string,
  id: string,
): Promise<CredentialRecord | undefined> => credentials.get(pool, { tenant_id: tenantId, vault_id: vaultId, id });

/** The opened secret of a credential: for whatever resolves credentials for tool calls, never for responses. */
export async function openCredentialSecret(
  pool: pg.Pool,
  box: SecretBox,
  tenantId: string,
  id: string,
): Promise<Record<string, unknown> | undefined> {
  const { rows } = await pool.query<{ secret: Buffer }>(
    'select secret from vault_credentials where tenant_id = $1 and id = $2',
    [tenantId, id],
  );
  return rows[0] ? (JSON.parse(box.open(rows[0].secret, id)) as Record<string, unknown>) : undefined;
}

export async function updateCredential(
  pool: pg.Pool,
  box: SecretBox,
  tenantId: string,
  vaultId: string,
  id: string,
  fields: {
    display_name: string | null;
    metadata: Metadata;
    auth?: Record<string, unknown>;
    secret?: Record<string, unknown>;
  },
): Promise<CredentialRecord | undefined> {
  const sealed = fields.secret ? box.seal(JSON.stringify(fields.secret), id) : null;
  const { rows } = await pool.query<CredentialRow>(
    `update vault_credentials set display_name = $4, metadata = $5, auth = coalesce($6, auth),
       secret = coalesce($7, secret), updated_at = now()
     where tenant_id = $1 and vault_id = $2 and id = $3 returning ${credentialColumns}`,
    [tenantId, vaultId, id, fields.display_name, fields.metadata, fields.auth ?? null, sealed],
  );
  return rows[0] ? toCredential(rows[0]) : undefined;
}

export const archiveCredential = (
  pool: pg.Pool,
  tenantId: string,
  vaultId: string,
  id: string,
): Promise<CredentialRecord | undefined> => credentials.archive(pool, { tenant_id: tenantId, vault_id: vaultId, id });

export const deleteCredential = (pool: pg.Pool, tenantId: string, vaultId: string, id: string): Promise<boolean> =>
  credentials.remove(pool, { tenant_id: tenantId, vault_id: vaultId, id });

export const listCredentials = (
  pool: pg.Pool,
  tenantId: string,
  vaultId: string,
  options: ListOptions,
): Promise<Page<CredentialRecord>> => credentials.list(pool, { tenant_id: tenantId, vault_id: vaultId }, options);
