// Re-sealing every secret sealed at rest under the vault's current key (the last step of a vault-key rotation; see
// secret-box.ts). Online: each row is replaced only if it still holds the bytes that were read, so a secret changed
// meanwhile keeps its new value (already under the current key); running it twice changes nothing the second time.
import type pg from 'pg';
import type { SecretBox } from './secret-box.ts';

interface SealedColumn {
  table: string;
  key: string;
  column: string;
  /** The associated data the column's values were sealed with, from the row's key. */
  associatedData: (key: string) => string;
}

const sealedColumns: readonly SealedColumn[] = [
  { table: 'vault_credentials', key: 'id', column: 'secret', associatedData: (id) => id },
  { table: 'webhook_endpoints', key: 'id', column: 'secret_sealed', associatedData: (id) => id },
  { table: 'webhook_endpoints', key: 'id', column: 'previous_secret_sealed', associatedData: (id) => id },
  {
    table: 'egress_certificate_authority',
    key: 'name',
    column: 'private_key_sealed',
    associatedData: (n) => `ca:${n}`,
  },
  { table: 'session_resources', key: 'id', column: 'authorization_token_sealed', associatedData: (id) => id },
];

export interface ResealResult {
  /** Rows moved to the current key by this call. */
  resealed: number;
  /** Rows already under it. */
  unchanged: number;
  /** Rows no configured key opens (left as they are): the key that sealed them must not be dropped yet. */
  unreadable: number;
}

export async function resealAllSecrets(pool: pg.Pool, box: SecretBox): Promise<ResealResult> {
  const result: ResealResult = { resealed: 0, unchanged: 0, unreadable: 0 };
  for (const { table, key, column, associatedData } of sealedColumns) {
    let after = '';
    for (;;) {
      const { rows } = await pool.query<{ key: string; sealed: Buffer }>(
        `select ${key} as key, ${column} as sealed from ${table}
         where ${column} is not null and ${key} > $1 order by ${key} limit 500`,
        [after],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        if (box.isCurrent(row.sealed)) {
          result.unchanged += 1;
          continue;
        }
        let plaintext: string;
        try {
          plaintext = box.open(row.sealed, associatedData(row.key));
        } catch {
          result.unreadable += 1;
          continue;
        }
        const resealed = box.seal(plaintext, associatedData(row.key));
        const { rowCount } = await pool.query(
          `update ${table} set ${column} = $1 where ${key} = $2 and ${column} = $3`,
          [resealed, row.key, row.sealed],
        );
        result.resealed += rowCount ?? 0;
      }
      after = rows.at(-1)!.key;
    }
  }
  return result;
}
