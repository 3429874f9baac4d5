// Payload protection without a workflow: the encryption codec on its own, and the claim-check codec (and the SDK
// external-storage driver) over the Postgres blob store that large encrypted payloads move to.
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload, StorageDriverClaim } from '@temporalio/common';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ByteBoundedLru } from '../../codec/byte-bounded-lru.ts';
import { ClaimCheckCodec, claimCheckEncoding } from '../../codec/claim-check-codec.ts';
import { createDataConverter, defaultClaimCheckThresholdBytes } from '../../codec/data-converter.ts';
import {
  decodeBase64Keys,
  EncryptionCodec,
  encryptedEncoding,
  encryptionKeyIdMetadataKey,
} from '../../codec/encryption-codec.ts';
import { blobIdOf, PostgresBlobStore } from '../../codec/postgres-blob-store.ts';
import { PostgresStorageDriver } from '../../codec/postgres-storage-driver.ts';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const marker = `codec-unit-marker-${randomBytes(6).toString('hex')}`;

function toPayload(value: unknown): Payload {
  return defaultPayloadConverter.toPayload(value);
}

function fromPayload(payload: Payload): unknown {
  return defaultPayloadConverter.fromPayload(payload);
}

function metadataText(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value ? Buffer.from(value).toString('utf8') : undefined;
}

describe('EncryptionCodec', () => {
  const codec = new EncryptionCodec({ keys: { old: oldKey, new: newKey }, currentKeyId: 'new' });

  it('round-trips small, large and binary payloads and hides the plaintext', async () => {
    const values = [`hello ${marker}`, `${marker} ${'x'.repeat(300_000)}`, new Uint8Array(randomBytes(70_000))];
    const payloads = values.map(toPayload);
    const encoded = await codec.encode(payloads);
    for (const payload of encoded) {
      expect(metadataText(payload, 'encoding')).toBe(encryptedEncoding);
      expect(metadataText(payload, encryptionKeyIdMetadataKey)).toBe('new');
      expect(Buffer.from(payload.data!).includes(marker)).toBe(false);
      // The original encoding (json/plain, binary/plain) is inside the ciphertext, not beside it.
      expect(Object.keys(payload.metadata ?? {}).sort()).toEqual(['encoding', encryptionKeyIdMetadataKey]);
    }
    const decoded = await codec.decode(encoded);
    expect(decoded.map(fromPayload)).toEqual(values);
  });

  it('decodes payloads written with an older key after rotation', async () => {
    const beforeRotation = new EncryptionCodec({ keys: { old: oldKey }, currentKeyId: 'old' });
    const encodedWithOld = await beforeRotation.encode([toPayload({ text: marker })]);
    expect(metadataText(encodedWithOld[0]!, encryptionKeyIdMetadataKey)).toBe('old');
    expect((await codec.decode(encodedWithOld)).map(fromPayload)).toEqual([{ text: marker }]);
  });

  it('fails clearly on an unknown key id and on tampered ciphertext', async () => {
    const otherCodec = new EncryptionCodec({ keys: { rogue: randomBytes(32) }, currentKeyId: 'rogue' });
    const foreign = await otherCodec.encode([toPayload('secret')]);
    await expect(codec.decode(foreign)).rejects.toThrow(/unknown key id "rogue"/);

    const [encoded] = await codec.encode([toPayload('secret')]);
    const data = Buffer.from(encoded!.data!);
    data[data.length - 1]! ^= 0xff;
    await expect(codec.decode([{ ...encoded, data }])).rejects.toThrow(/failed authentication/);
    // Relabelling a ciphertext with another configured key id fails too: the key id is authenticated data.
    const relabelled = {
      ...encoded,
      metadata: { ...encoded!.metadata, [encryptionKeyIdMetadataKey]: Buffer.from('old') },
    };
    await expect(codec.decode([relabelled])).rejects.toThrow(/failed authentication/);
  });

  it('passes unencrypted payloads through on decode', async () => {
    expect((await codec.decode([toPayload('plain')])).map(fromPayload)).toEqual(['plain']);
  });

  it('rejects bad key configuration', () => {
    expect(() => new EncryptionCodec({ keys: { a: randomBytes(16) }, currentKeyId: 'a' })).toThrow(/32 bytes/);
    expect(() => new EncryptionCodec({ keys: { a: oldKey }, currentKeyId: 'b' })).toThrow(/not among/);
    expect(Buffer.from(decodeBase64Keys({ k1: oldKey.toString('base64') }).get('k1')!).equals(oldKey)).toBe(true);
    expect(() => decodeBase64Keys({ k1: 'not-a-key' })).toThrow(/base64/);
  });
});

describe('ByteBoundedLru', () => {
  it('evicts least recently used entries past its byte budget', () => {
    const cache = new ByteBoundedLru(10);
    cache.set('a', new Uint8Array(4));
    cache.set('b', new Uint8Array(4));
    cache.get('a');
    cache.set('c', new Uint8Array(4));
    expect([cache.get('a') !== undefined, cache.get('b') !== undefined, cache.get('c') !== undefined]).toEqual([
      true,
      false,
      true,
    ]);
    cache.set('huge', new Uint8Array(11));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.bytes).toBeLessThanOrEqual(10);
  });
});

describe('ClaimCheckCodec on PostgresBlobStore', () => {
  let pool: pg.Pool;
  const encryption = new EncryptionCodec({ keys: { k: newKey }, currentKeyId: 'k' });
  const largeText = `${marker} ${'y'.repeat(100_000)}`;

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  });
  afterAll(async () => {
    await pool.end();
  });

  function claimCheck(blobStore = new PostgresBlobStore({ pool }), thresholdBytes = 32 * 1024): ClaimCheckCodec {
    return new ClaimCheckCodec({ blobStore, thresholdBytes });
  }

  it('replaces large encrypted payloads by small references and restores them from a cold cache', async () => {
    const values = ['small', largeText, new Uint8Array(randomBytes(50_000))];
    const encrypted = await encryption.encode(values.map(toPayload));
    const stored = await claimCheck().encode(encrypted);

    expect(stored[0]).toBe(encrypted[0]); // under the threshold: untouched
    for (const reference of stored.slice(1)) {
      expect(metadataText(reference, 'encoding')).toBe(claimCheckEncoding);
      expect(reference.data!.byteLength).toBeLessThan(200);
    }
    const fromAnotherProcess = claimCheck(); // nothing cached
    const restored = await encryption.decode(await fromAnotherProcess.decode(stored));
    expect(restored.map(fromPayload)).toEqual(values);
  });

  it('keys blobs by the sha256 of their ciphertext, inserts idempotently and stores no plaintext', async () => {
    const [encrypted] = await encryption.encode([toPayload(largeText)]);
    const codec = claimCheck();
    const [first, second] = await codec.encode([encrypted!, encrypted!]);
    await codec.encode([encrypted!]); // a retried activity completion: on conflict do nothing
    const { blobId } = JSON.parse(Buffer.from(first!.data!).toString('utf8')) as { blobId: string };
    expect(blobId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(second!.data).toEqual(first!.data);

    const rows = await pool.query<{ data: Buffer }>('select data from payload_blobs where id = $1', [blobId]);
    expect(rows.rows).toHaveLength(1);
    expect(blobIdOf(rows.rows[0]!.data)).toBe(blobId);
    expect(rows.rows[0]!.data.includes(marker)).toBe(false);
  });

  it('honours a configured threshold', async () => {
    const [encrypted] = await encryption.encode([toPayload('x'.repeat(2_000))]);
    expect(metadataText((await claimCheck(undefined, 1024).encode([encrypted!]))[0]!, 'encoding')).toBe(
      claimCheckEncoding,
    );
    expect((await claimCheck(undefined, 4096).encode([encrypted!]))[0]).toBe(encrypted);
  });

  it('fails clearly on a missing or corrupted blob', async () => {
    const reference = (blobId: string): Payload => ({
      metadata: { encoding: Buffer.from(claimCheckEncoding) },
      data: Buffer.from(JSON.stringify({ blobId, sizeBytes: 1 })),
    });
    await expect(claimCheck().decode([reference(`sha256:${'0'.repeat(64)}`)])).rejects.toThrow(/not found/);

    const forgedId = `sha256:${'1'.repeat(64)}`;
    await pool.query('insert into payload_blobs (id, data) values ($1, $2) on conflict do nothing', [
      forgedId,
      Buffer.from('garbage'),
    ]);
    await expect(claimCheck().decode([reference(forgedId)])).rejects.toThrow(/content hash/);
  });

  it('serves the same blobs through the external-storage driver', async () => {
    const [encrypted] = await encryption.encode([toPayload(largeText)]);
    const driver = new PostgresStorageDriver(new PostgresBlobStore({ pool }));
    const claims = await driver.store({}, [encrypted!]);
    const [restored] = await new PostgresStorageDriver(new PostgresBlobStore({ pool })).retrieve({}, claims);
    expect(fromPayload((await encryption.decode([restored!]))[0]!)).toBe(largeText);
    await expect(driver.retrieve({}, [new StorageDriverClaim({})])).rejects.toThrow(/Malformed/);
  });

  it('builds the data converter: compression first, then encryption, then claim check, failures encoded', () => {
    const converter = createDataConverter({
      pool,
      keys: { k: newKey },
      currentKeyId: 'k',
      largePayloads: 'claim-check',
    });
    expect(converter.payloadCodecs?.map((codec) => codec.constructor.name)).toEqual([
      'CompressionCodec',
      'TenantEncryptionCodec',
      'ClaimCheckCodec',
    ]);
    expect(converter.failureConverterPath).toMatch(/failure-converter\.ts$/);
    expect(converter.externalStorage).toBeUndefined();
    // The default: Temporal's external storage.
    const viaSdk = createDataConverter({
      pool,
      keys: { k: newKey },
      currentKeyId: 'k',
      claimCheckThresholdBytes: 1024,
    });
    expect(viaSdk.payloadCodecs?.map((codec) => codec.constructor.name)).toEqual([
      'CompressionCodec',
      'TenantEncryptionCodec',
    ]);
    expect(viaSdk.externalStorage?.payloadSizeThreshold).toBe(1024);
    expect(defaultClaimCheckThresholdBytes).toBe(32 * 1024);
  });
});
