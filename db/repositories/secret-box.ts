// AES-256-GCM sealing of secrets at rest (vault credentials, webhook signing secrets, the egress CA's key):
// `v2` | key id (8) | iv (12) | tag (16) | ciphertext, the key id being a fingerprint of the sealing key. The first key
// seals; every configured key opens, which is how the vault key rotates without downtime (README "Encryption"): add
// the new key as an extra everywhere, make it the sealing key (the old one an extra), re-seal every row
// (POST /v1/admin/vault_key/reseal), then drop the old key. Sealed bytes from before key ids (`v1` | iv | tag |
// ciphertext) open with whichever configured key authenticates them. Keys never leave the processes holding them.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { developmentVaultKey, type PlatformConfig } from '../../domain/config.ts';

const legacyVersion = Buffer.from('v1');
const version = Buffer.from('v2');
const keyIdBytes = 8;

interface VaultKey {
  id: Buffer;
  key: Buffer;
}

export class SecretBox {
  private readonly keys: VaultKey[];

  /** `sealingKey` seals and opens; `extraKeys` (base64, 32 bytes each) only open. */
  constructor(sealingKey: string, extraKeys: readonly string[] = []) {
    this.keys = [sealingKey, ...extraKeys].map((base64) => {
      const key = Buffer.from(base64, 'base64');
      if (key.length !== 32) throw new Error('vault keys (AGENTS_VAULT_KEY, …_EXTRA_KEYS) must be base64 of 32 bytes');
      return { id: createHash('sha256').update('vault-key:').update(key).digest().subarray(0, keyIdBytes), key };
    });
  }

  /** The sealing key's fingerprint (hex): what a re-seal moves every row to. */
  get currentKeyId(): string {
    return this.keys[0]!.id.toString('hex');
  }

  seal(plaintext: string, associatedData: string): Buffer {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([version, id, iv, cipher.getAuthTag(), ciphertext]);
  }

  open(sealed: Buffer, associatedData: string): string {
    const versionTag = sealed.subarray(0, 2);
    if (versionTag.equals(version)) {
      const id = sealed.subarray(2, 2 + keyIdBytes);
      const entry = this.keys.find((candidate) => candidate.id.equals(id));
      if (!entry) throw new Error(`secret sealed with vault key ${id.toString('hex')}, which is not configured`);
      return openWith(entry.key, sealed.subarray(2 + keyIdBytes), associatedData);
    }
    if (!versionTag.equals(legacyVersion)) throw new Error('unknown sealed-secret version');
    for (const { key } of this.keys) {
      try {
        return openWith(key, sealed.subarray(2), associatedData);
      } catch {
        // Not this key: GCM authentication tells.
      }
    }
    throw new Error('sealed secret opens with none of the configured vault keys');
  }

  /** Whether these sealed bytes are under the sealing key already (a re-seal leaves them alone). */
  isCurrent(sealed: Buffer): boolean {
    return sealed.subarray(0, 2).equals(version) && sealed.subarray(2, 2 + keyIdBytes).equals(this.keys[0]!.id);
  }
}

function openWith(key: Buffer, body: Buffer, associatedData: string): string {
  const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, 12));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(body.subarray(12, 28));
  return Buffer.concat([decipher.update(body.subarray(28)), decipher.final()]).toString('utf8');
}

/** The platform's vault box from configuration (the development key when AGENTS_VAULT_KEY is unset). */
export function vaultSecretBox(config: PlatformConfig): SecretBox {
  return new SecretBox(config.AGENTS_VAULT_KEY ?? developmentVaultKey, vaultExtraKeys(config));
}

/** AGENTS_VAULT_EXTRA_KEYS as a list. */
export function vaultExtraKeys(config: PlatformConfig): string[] {
  return (config.AGENTS_VAULT_EXTRA_KEYS ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '');
}
