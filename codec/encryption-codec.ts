// AES-256-GCM payload encryption, so Temporal's database (and the blob store behind external storage) never holds
// plaintext. The whole Payload protobuf is encrypted, metadata included, so even the original encoding is hidden. Every
// ciphertext names its key id: encode uses the current key, decode accepts any configured key, which is how keys rotate
// (add the new key, make it current, keep the old one until no retained history needs it).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type Payload, type PayloadCodec, ValueError } from '@temporalio/common';
import proto from '@temporalio/proto';

// @temporalio/proto is CommonJS: Node's ESM loader sees only its default export.
const { temporal } = proto;

const PayloadProto = temporal.api.common.v1.Payload;

export const encryptedEncoding = 'binary/encrypted';
export const encryptionKeyIdMetadataKey = 'encryption-key-id';

const algorithm = 'aes-256-gcm';
const keyBytes = 32;
const ivBytes = 12;
const authTagBytes = 16;

export interface EncryptionCodecOptions {
  /** keyId → 32-byte AES key. */
  keys: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;
  /** The key new payloads are encrypted with; must be one of `keys`. */
  currentKeyId: string;
}

export class EncryptionCodec implements PayloadCodec {
  readonly currentKeyId: string;
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(options: EncryptionCodecOptions) {
    const entries: [string, Uint8Array][] =
      options.keys instanceof Map
        ? [...(options.keys as ReadonlyMap<string, Uint8Array>).entries()]
        : Object.entries(options.keys as Readonly<Record<string, Uint8Array>>);
    const keys = new Map<string, Buffer>();
    for (const [keyId, key] of entries) {
      if (keyId.length === 0) throw new ValueError('Encryption key ids must be non-empty');
      if (key.byteLength !== keyBytes) {
        throw new ValueError(`Encryption key "${keyId}" must be ${keyBytes} bytes, got ${key.byteLength}`);
      }
      keys.set(keyId, Buffer.from(key));
    }
    if (!keys.has(options.currentKeyId)) {
      throw new ValueError(`Current encryption key id "${options.currentKeyId}" is not among the configured keys`);
    }
    this.keys = keys;
    this.currentKeyId = options.currentKeyId;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.decrypt(payload) : payload));
  }

  private encrypt(payload: Payload): Payload {
    const key = this.keys.get(this.currentKeyId)!;
    const plaintext = PayloadProto.encode(payload).finish();
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv(algorithm, key, iv, { authTagLength: authTagBytes });
    // The key id is authenticated data: a ciphertext relabelled with another key id fails instead of mis-decrypting.
    cipher.setAAD(Buffer.from(this.currentKeyId, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      metadata: {
        encoding: Buffer.from(encryptedEncoding, 'utf8'),
        [encryptionKeyIdMetadataKey]: Buffer.from(this.currentKeyId, 'utf8'),
      },
      data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    const keyIdBytes = payload.metadata?.[encryptionKeyIdMetadataKey];
    if (!keyIdBytes) throw new ValueError(`Encrypted payload has no "${encryptionKeyIdMetadataKey}" metadata`);
    const keyId = Buffer.from(keyIdBytes).toString('utf8');
    const key = this.keys.get(keyId);
    if (!key) {
      throw new ValueError(
        `Payload was encrypted with unknown key id "${keyId}" (configured: ${[...this.keys.keys()].join(', ')})`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.byteLength < ivBytes + authTagBytes) throw new ValueError('Encrypted payload is too short');
    const decipher = createDecipheriv(algorithm, key, data.subarray(0, ivBytes), { authTagLength: authTagBytes });
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    decipher.setAuthTag(data.subarray(data.byteLength - authTagBytes));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([
        decipher.update(data.subarray(ivBytes, data.byteLength - authTagBytes)),
        decipher.final(),
      ]);
    } catch {
      throw new ValueError(`Encrypted payload failed authentication with key id "${keyId}" (corrupt or tampered)`);
    }
    return PayloadProto.decode(plaintext);
  }
}

function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && encoding !== null && Buffer.from(encoding).toString('utf8') === encryptedEncoding;
}

/** Parses keys as configuration carries them (keyId → base64 of 32 bytes); throws on any malformed key. */
export function decodeBase64Keys(keys: Readonly<Record<string, string>>): Map<string, Uint8Array> {
  const decoded = new Map<string, Uint8Array>();
  for (const [keyId, base64] of Object.entries(keys)) {
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.byteLength !== keyBytes || bytes.toString('base64') !== base64.trim()) {
      throw new ValueError(`Encryption key "${keyId}" must be the base64 of exactly ${keyBytes} bytes`);
    }
    decoded.set(keyId, bytes);
  }
  return decoded;
}
