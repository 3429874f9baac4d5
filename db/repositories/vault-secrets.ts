// Vault credentials with their secrets opened, for the activities (and proxy) that use them at the boundary — never
// for API responses, history, events or logs. Callers pass the session's `vault_ids`; archived vaults and credentials
// are skipped.
import type pg from 'pg';
import { withTransaction } from '../transaction.ts';
import type { SecretBox } from './secret-box.ts';

export interface OpenedCredential {
  id: string;
  vaultId: string;
  /** The public part of `auth`, as the API returns it. */
  auth: Record<string, unknown> & { type: string };
  /** The opened secret fields (token, access_token, refresh_token, client_secret, secret_value). */
  secret: Record<string, unknown>;
}

export interface CredentialFilter {
  /** `static_bearer`, `mcp_oauth` or `environment_variable`. */
  type?: string;
  /** The vault-unique key: the `mcp_server_url`, or `env:<secret_name>`. */
  authKey?: string;
}

interface OpenedRow {
  id: string;
  vault_id: string;
  auth: Record<string, unknown> & { type: string };
  secret: Buffer;
}

/** The session's matching credentials, the vaults in the order given and each vault's oldest first. */
export async function resolveSessionCredentials(
  pool: pg.Pool,
  box: SecretBox,
  tenantId: string,
  vaultIds: string[],
  filter: CredentialFilter = {},
): Promise<OpenedCredential[]> {
  if (vaultIds.length === 0) return [];
  const { rows } = await pool.query<OpenedRow>(
    `select c.id, c.vault_id, c.auth, c.secret from vault_credentials c join vaults v on v.id = c.vault_id
     where c.tenant_id = $1 and v.tenant_id = $1 and c.vault_id = any($2::text[])
       and c.archived_at is null and v.archived_at is null
       and ($3::text is null or c.auth->>'type' = $3) and ($4::text is null or c.auth_key = $4)
     order by array_position($2::text[], c.vault_id), c.position`,
    [tenantId, vaultIds, filter.type ?? null, filter.authKey ?? null],
  );
  return rows.map((row) => ({
    id: row.id,
    vaultId: row.vault_id,
    auth: row.auth,
    secret: JSON.parse(box.open(row.secret, row.id)) as Record<string, unknown>,
  }));
}

/** What a locked update writes back: the whole opened secret and the public auth (e.g. a new `expires_at`). */
export interface CredentialRewrite {
  secret: Record<string, unknown>;
  auth: Record<string, unknown> & { type: string };
}

/**
 * Runs `work` with the credential's row locked (a token refresh: two sessions refreshing at once would spend a
 * rotating refresh token twice), then writes back what it returns. `work` sees the secret as it is now, which may
 * already have been refreshed by whoever held the lock before.
 */
export async function withLockedCredential<T>(
  pool: pg.Pool,
  box: SecretBox,
  tenantId: string,
  id: string,
  work: (current: OpenedCredential) => Promise<{ result: T; rewrite?: CredentialRewrite }>,
): Promise<T | undefined> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<OpenedRow>(
      `select id, vault_id, auth, secret from vault_credentials
       where tenant_id = $1 and id = $2 and archived_at is null for update`,
      [tenantId, id],
    );
    const row = rows[0];
    if (!row) return undefined;
    const current = {
      id: row.id,
      vaultId: row.vault_id,
      auth: row.auth,
      secret: JSON.parse(box.open(row.secret, row.id)) as Record<string, unknown>,
    };
    const { result, rewrite } = await work(current);
    if (rewrite) {
      await client.query(
        'update vault_credentials set auth = $3, secret = $4, updated_at = now() where tenant_id = $1 and id = $2',
        [tenantId, id, rewrite.auth, box.seal(JSON.stringify(rewrite.secret), id)],
      );
    }
    return result;
  });
}
