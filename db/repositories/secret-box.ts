// AES-256-GCM sealing of vault secrets at rest: `v1` | iv (12) | tag (16) | ciphertext. The key never leaves the
// process that holds AGENTS_VAULT_KEY; rows hold only sealed bytes.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const version = Buffer.from('v1');

export class SecretBox {
  private readonly key: Buffer;

  constructor(base64Key: string) {
    this.key = Buffer.from(base64Key, 'base64');
    if (this.key.length !== 32) throw new Error('AGENTS_VAULT_KEY must be the base64 of 32 bytes');
  }

  seal(plaintext: string, associatedData: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([version, iv, cipher.getAuthTag(), ciphertext]);
  }

  open(sealed: Buffer, associatedData: string): string {
    if (!sealed.subarray(0, 2).equals(version)) throw new Error('unknown sealed-secret version');
    const iv = sealed.subarray(2, 14);
    const tag = sealed.subarray(14, 30);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(30)), decipher.final()]).toString('utf8');
  }
}
