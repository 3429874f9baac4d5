// Per-tenant data keys (envelope encryption): each tenant's payloads are encrypted under a random AES-256 data key of
// its own, which PostgreSQL stores only wrapped (AES-256-GCM) by the platform's current payload key. Rotating adds a
// new data key for new payloads; old ones keep decrypting. Every encrypted payload also carries its wrapped key, so a
// decode needs nothing but the platform keys: histories replay against any database, and a key row deleted with its
// tenant does not strand a running workflow.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ValueError } from '@temporalio/common';
import type { Pool } from 'pg';
import { currentDataKey, insertDataKey, type WrappedDataKey } from '../db/repositories/tenant-data-keys.ts';

export const dataKeyIdPrefix = 'tdk_';
const ivBytes = 12;
const tagBytes = 16;
const keyBytes = 32;

/** An unwrapped data key with its wrapped form (which rides in every payload it encrypts). */
export interface DataKey {
  id: string;
  tenantId: string;
  key: Buffer;
  wrappedKey: Buffer;
  wrappingKeyId: string;
  createdAt?: Date;
}

type WrappedKey = Omit<WrappedDataKey, 'createdAt'> & { createdAt?: Date };

export interface TenantKeyringOptions {
  pool: Pick<Pool, 'query'>;
  /** The platform payload keys (keyId → 32 bytes): the current one wraps new data keys, any one unwraps. */
  platformKeys: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;
  currentPlatformKeyId: string;
  /** How long a tenant's current data key is used before asking the database again (rotation reaches every process). */
  refreshMs?: number;
}

interface CurrentKey {
  key: Promise<DataKey>;
  /** When the database last answered (or was first asked). */
  at: number;
  /** The key has been read: it may serve while a refresh runs. */
  loaded: boolean;
  refreshing: boolean;
}

export class TenantKeyring {
  private readonly pool: Pick<Pool, 'query'>;
  private readonly platformKeys: ReadonlyMap<string, Uint8Array>;
  private readonly currentPlatformKeyId: string;
  private readonly refreshMs: number;
  private readonly current = new Map<string, CurrentKey>();
  private readonly unwrapped = new Map<string, DataKey>();

  constructor(options: TenantKeyringOptions) {
    this.pool = options.pool;
    this.platformKeys =
      options.platformKeys instanceof Map
        ? (options.platformKeys as ReadonlyMap<string, Uint8Array>)
        : new Map(Object.entries(options.platformKeys));
    this.currentPlatformKeyId = options.currentPlatformKeyId;
    this.refreshMs = options.refreshMs ?? 60_000;
  }

  /**
   * The data key the tenant's new payloads use: its newest, created on the tenant's first payload. Once a key is in
   * hand it keeps serving while the database is asked again in the background: an encode never waits for a pool
   * connection after the first, which matters because the API encodes a session's start inside the transaction that
   * inserts its row — with every connection held by such transactions, a refresh that waited would deadlock them
   * (or, with a connection timeout, stall each of them for it).
   */
  currentKey(tenantId: string): Promise<DataKey> {
    const cached = this.current.get(tenantId);
    if (cached && Date.now() - cached.at < this.refreshMs) return cached.key;
    if (cached?.loaded) {
      if (!cached.refreshing) this.refresh(tenantId, cached);
      return cached.key;
    }
    const entry: CurrentKey = { key: this.loadCurrent(tenantId), at: Date.now(), loaded: false, refreshing: false };
    this.current.set(tenantId, entry);
    entry.key.then(
      () => (entry.loaded = true),
      () => this.current.get(tenantId) === entry && this.current.delete(tenantId),
    );
    return entry.key;
  }

  /** Asks the database for the tenant's newest key; until it answers (or if it fails) the key in hand serves. */
  private refresh(tenantId: string, entry: CurrentKey): void {
    entry.refreshing = true;
    this.loadCurrent(tenantId).then(
      (key) => {
        if (this.current.get(tenantId) !== entry) return; // a rotation here set a newer one meanwhile
        this.current.set(tenantId, { key: Promise.resolve(key), at: Date.now(), loaded: true, refreshing: false });
      },
      () => (entry.refreshing = false), // the next encode asks again
    );
  }

  /** Adds a new data key for the tenant; new payloads use it (other processes within refreshMs), old ones still decode. */
  async rotate(tenantId: string): Promise<DataKey> {
    const key = this.unwrap(await insertDataKey(this.pool, this.generate(tenantId)));
    this.current.set(tenantId, { key: Promise.resolve(key), at: Date.now(), loaded: true, refreshing: false });
    return key;
  }

  /** Unwraps a data key as a payload or a row carries it; the tenant is authenticated by the wrapping. */
  unwrap(wrapped: WrappedKey): DataKey {
    const known = this.unwrapped.get(wrapped.id);
    if (known && known.tenantId === wrapped.tenantId && known.wrappedKey.equals(wrapped.wrappedKey)) return known;
    const platformKey = this.platformKeys.get(wrapped.wrappingKeyId);
    if (!platformKey) {
      throw new ValueError(`Data key ${wrapped.id} is wrapped by unknown platform key id "${wrapped.wrappingKeyId}"`);
    }
    const data = wrapped.wrappedKey;
    if (data.byteLength !== ivBytes + keyBytes + tagBytes) throw new ValueError(`Data key ${wrapped.id} is malformed`);
    const decipher = createDecipheriv('aes-256-gcm', platformKey, data.subarray(0, ivBytes), {
      authTagLength: tagBytes,
    });
    decipher.setAAD(wrappingAad(wrapped.id, wrapped.tenantId));
    decipher.setAuthTag(data.subarray(ivBytes + keyBytes));
    let key: Buffer;
    try {
      key = Buffer.concat([decipher.update(data.subarray(ivBytes, ivBytes + keyBytes)), decipher.final()]);
    } catch {
      throw new ValueError(`Data key ${wrapped.id} failed authentication (wrong tenant, corrupt or tampered)`);
    }
    const dataKey: DataKey = { ...wrapped, key };
    if (this.unwrapped.size >= 10_000) this.unwrapped.delete(this.unwrapped.keys().next().value ?? '');
    this.unwrapped.set(wrapped.id, dataKey);
    return dataKey;
  }

  private async loadCurrent(tenantId: string): Promise<DataKey> {
    const row = await currentDataKey(this.pool, tenantId);
    if (row) return this.unwrap(row);
    return this.unwrap(await insertDataKey(this.pool, this.generate(tenantId)));
  }

  private generate(tenantId: string): Omit<WrappedDataKey, 'createdAt'> {
    const id = `${dataKeyIdPrefix}${randomBytes(12).toString('hex')}`;
    const platformKey = this.platformKeys.get(this.currentPlatformKeyId);
    if (!platformKey) throw new ValueError(`Current payload key id "${this.currentPlatformKeyId}" is not configured`);
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', platformKey, iv, { authTagLength: tagBytes });
    cipher.setAAD(wrappingAad(id, tenantId));
    const sealed = Buffer.concat([cipher.update(randomBytes(keyBytes)), cipher.final()]);
    return {
      id,
      tenantId,
      wrappedKey: Buffer.concat([iv, sealed, cipher.getAuthTag()]),
      wrappingKeyId: this.currentPlatformKeyId,
    };
  }
}

// The wrapping authenticates which tenant a data key belongs to: a payload relabelled with another tenant fails.
const wrappingAad = (dataKeyId: string, tenantId: string): Buffer =>
  Buffer.from(`tenant-data-key\u0000${dataKeyId}\u0000${tenantId}`, 'utf8');
