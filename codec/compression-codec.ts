// Payload compression, the first codec of the chain (so it runs before encryption, on plaintext that still has
// redundancy): a payload of at least `minBytes` whose Payload protobuf shrinks under Brotli is replaced by
// `{encoding: 'binary/brotli', data: brotli(Payload protobuf)}`; anything else passes through unchanged. The encryption
// codec then encrypts that payload whole, so the marker sits inside the ciphertext and history shows nothing new.
// Decode inflates only payloads carrying the marker: every payload written before compression existed decodes as before.
// Runs outside the workflow sandbox (a data converter codec), so node:zlib is fine here.
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { type Payload, type PayloadCodec, ValueError } from '@temporalio/common';
import proto from '@temporalio/proto';

// @temporalio/proto is CommonJS: Node's ESM loader sees only its default export.
const { temporal } = proto;
const PayloadProto = temporal.api.common.v1.Payload;

export const compressedEncoding = 'binary/brotli';
/** Payloads smaller than this are not worth a compression attempt. */
export const defaultCompressionMinBytes = 256;
// Quality 5: most of Brotli's ratio on text and JSON at a small fraction of the CPU of the maximum (11).
const brotliQuality = 5;
// A decompressed payload larger than this is refused (a corrupt or hostile payload must not exhaust memory).
const maxDecompressedBytes = 64 * 1024 * 1024;

export interface CompressionCodecOptions {
  /** Payloads whose protobuf is smaller than this many bytes pass through (default 256). */
  minBytes?: number;
}

export class CompressionCodec implements PayloadCodec {
  private readonly minBytes: number;

  constructor(options: CompressionCodecOptions = {}) {
    this.minBytes = options.minBytes ?? defaultCompressionMinBytes;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.compress(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isCompressed(payload) ? decompress(payload) : payload));
  }

  private compress(payload: Payload): Payload {
    const plain = PayloadProto.encode(payload).finish();
    if (plain.byteLength < this.minBytes) return payload;
    const data = brotliCompressSync(plain, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: brotliQuality,
        [constants.BROTLI_PARAM_SIZE_HINT]: plain.byteLength,
      },
    });
    const compressed: Payload = { metadata: { encoding: Buffer.from(compressedEncoding, 'utf8') }, data };
    // Only when it pays for its own marker: incompressible payloads (random bytes, ciphertext, media) stay as they are.
    return PayloadProto.encode(compressed).finish().byteLength < plain.byteLength ? compressed : payload;
  }
}

function decompress(payload: Payload): Payload {
  try {
    const plain = brotliDecompressSync(payload.data ?? new Uint8Array(), { maxOutputLength: maxDecompressedBytes });
    return PayloadProto.decode(plain);
  } catch {
    throw new ValueError('Compressed payload could not be decompressed (corrupt or truncated)');
  }
}

function isCompressed(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && encoding !== null && Buffer.from(encoding).toString('utf8') === compressedEncoding;
}
