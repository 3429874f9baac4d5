// Claim-check codec: an encoded payload at or above the threshold is moved to Postgres and replaced by a small reference,
// so workflow history grows with the number of messages, not their size (Temporal fails payloads over 2 MiB and
// histories over 50 MiB). It runs after the encryption codec, so blobs are ciphertext; the blob id is the sha256 of the
// stored bytes.
import { type Payload, type PayloadCodec, ValueError } from '@temporalio/common';
import proto from '@temporalio/proto';

// @temporalio/proto is CommonJS: Node's ESM loader sees only its default export.
const { temporal } = proto;
import type { PostgresBlobStore } from './postgres-blob-store.ts';

const PayloadProto = temporal.api.common.v1.Payload;

export const claimCheckEncoding = 'claim-check/v1';

interface ClaimCheckReference {
  blobId: string;
  sizeBytes: number;
}

export interface ClaimCheckCodecOptions {
  blobStore: PostgresBlobStore;
  /** Payloads whose protobuf encoding has at least this many bytes are stored aside. */
  thresholdBytes: number;
}

export class ClaimCheckCodec implements PayloadCodec {
  private readonly blobStore: PostgresBlobStore;
  private readonly thresholdBytes: number;

  constructor(options: ClaimCheckCodecOptions) {
    if (!Number.isFinite(options.thresholdBytes) || options.thresholdBytes < 0) {
      throw new ValueError(`Claim-check threshold must be a non-negative number, got ${options.thresholdBytes}`);
    }
    this.blobStore = options.blobStore;
    this.thresholdBytes = options.thresholdBytes;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const large: { index: number; bytes: Uint8Array }[] = [];
    payloads.forEach((payload, index) => {
      const bytes = PayloadProto.encode(payload).finish();
      if (bytes.byteLength >= this.thresholdBytes) large.push({ index, bytes });
    });
    if (large.length === 0) return payloads;
    const blobIds = await this.blobStore.put(large.map((entry) => entry.bytes));
    const result = payloads.slice();
    large.forEach((entry, position) => {
      result[entry.index] = referencePayload({ blobId: blobIds[position]!, sizeBytes: entry.bytes.byteLength });
    });
    return result;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    const references: { index: number; blobId: string }[] = [];
    payloads.forEach((payload, index) => {
      const reference = parseReference(payload);
      if (reference) references.push({ index, blobId: reference.blobId });
    });
    if (references.length === 0) return payloads;
    const blobs = await this.blobStore.get(references.map((reference) => reference.blobId));
    const result = payloads.slice();
    references.forEach((reference, position) => {
      result[reference.index] = PayloadProto.decode(blobs[position]!);
    });
    return result;
  }
}

function referencePayload(reference: ClaimCheckReference): Payload {
  return {
    metadata: { encoding: Buffer.from(claimCheckEncoding, 'utf8') },
    data: Buffer.from(JSON.stringify(reference), 'utf8'),
  };
}

function parseReference(payload: Payload): ClaimCheckReference | undefined {
  const encoding = payload.metadata?.encoding;
  if (!encoding || Buffer.from(encoding).toString('utf8') !== claimCheckEncoding) return undefined;
  let parsed: Partial<ClaimCheckReference>;
  try {
    parsed = JSON.parse(Buffer.from(payload.data ?? new Uint8Array()).toString('utf8')) as Partial<ClaimCheckReference>;
  } catch {
    throw new ValueError('Malformed claim-check reference payload');
  }
  if (typeof parsed.blobId !== 'string') throw new ValueError('Claim-check reference payload has no blobId');
  return { blobId: parsed.blobId, sizeBytes: parsed.sizeBytes ?? 0 };
}
