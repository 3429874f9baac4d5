// The compression codec on its own and in the platform's codec chain: a compressible payload round-trips compressed
// (and smaller, encrypted), small and incompressible payloads pass through, and a payload written before compression
// existed (encrypted, no compression marker inside) still decodes through the new chain.
import { randomBytes } from 'node:crypto';
import { brotliCompressSync } from 'node:zlib';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CompressionCodec, compressedEncoding } from '../../codec/compression-codec.ts';
import { chainCodecs, createDataConverter } from '../../codec/data-converter.ts';
import { EncryptionCodec, encryptedEncoding } from '../../codec/encryption-codec.ts';

const key = randomBytes(32);
const report = `compression-unit ${'lorem ipsum dolor sit amet '.repeat(4)}\n`.repeat(100);

const encodingOf = (payload: Payload): string => Buffer.from(payload.metadata?.encoding ?? []).toString('utf8');

describe('CompressionCodec', () => {
  const codec = new CompressionCodec();

  it('round-trips a compressible payload compressed, and passes small and incompressible ones through', async () => {
    const values = [{ content: report }, 'short', new Uint8Array(randomBytes(4096))];
    const payloads = values.map((value) => defaultPayloadConverter.toPayload(value));
    const [big, small, random] = await codec.encode(payloads);
    expect(encodingOf(big!)).toBe(compressedEncoding);
    expect(big!.data!.byteLength).toBeLessThan(payloads[0]!.data!.byteLength / 10);
    expect(small).toBe(payloads[1]);
    expect(random).toBe(payloads[2]);
    const decoded = await codec.decode([big!, small!, random!]);
    expect(decoded.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual(values);
  });

  it('refuses a corrupt compressed payload clearly', async () => {
    // A truncated brotli stream, not random bytes: random bytes are now and then a valid (empty) stream, which made
    // this test fail about once in a hundred runs.
    const stream = brotliCompressSync(Buffer.from('a payload long enough to compress '.repeat(40)));
    const corrupt = {
      metadata: { encoding: Buffer.from(compressedEncoding) },
      data: stream.subarray(0, stream.length / 2),
    };
    await expect(codec.decode([corrupt])).rejects.toThrow(/could not be decompressed/);
  });
});

describe('the platform codec chain with compression', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
  });

  it('compresses before encrypting, and still decodes payloads written before compression', async () => {
    const chain = chainCodecs(createDataConverter({ pool, keys: { k: key }, currentKeyId: 'k' }).payloadCodecs ?? []);
    const payload = defaultPayloadConverter.toPayload({ content: report });
    const [encoded] = await chain.encode([payload]);
    expect(encodingOf(encoded!)).toBe(encryptedEncoding);
    expect(Buffer.from(encoded!.data!).includes('compression-unit')).toBe(false);
    expect(encoded!.data!.byteLength).toBeLessThan(payload.data!.byteLength / 10);
    expect(defaultPayloadConverter.fromPayload((await chain.decode([encoded!]))[0]!)).toEqual({ content: report });

    // What the platform wrote before compression: encrypted under the platform key, no compression marker inside.
    const [old] = await new EncryptionCodec({ keys: { k: key }, currentKeyId: 'k' }).encode([payload]);
    expect(old!.data!.byteLength).toBeGreaterThan(payload.data!.byteLength);
    expect(defaultPayloadConverter.fromPayload((await chain.decode([old!]))[0]!)).toEqual({ content: report });
  });
});
