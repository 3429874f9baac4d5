// The same blob store as an SDK 1.24 external-storage driver (`DataConverter.externalStorage`), which offloads after the
// codecs ran, so what arrives here is already ciphertext. Not the default: see largePayloads in data-converter.ts.
import {
  type Payload,
  type StorageDriver,
  StorageDriverClaim,
  type StorageDriverRetrieveContext,
  type StorageDriverStoreContext,
  ValueError,
} from '@temporalio/common';
import proto from '@temporalio/proto';

// @temporalio/proto is CommonJS: Node's ESM loader sees only its default export.
const { temporal } = proto;
import type { PostgresBlobStore } from './postgres-blob-store.ts';

const PayloadProto = temporal.api.common.v1.Payload;

export const postgresStorageDriverName = 'postgres-payload-blobs';
const blobIdClaimKey = 'blob-id';

export class PostgresStorageDriver implements StorageDriver {
  readonly name = postgresStorageDriverName;
  readonly type = 'temporal-agents.postgres';
  private readonly blobStore: PostgresBlobStore;

  constructor(blobStore: PostgresBlobStore) {
    this.blobStore = blobStore;
  }

  async store(_context: StorageDriverStoreContext, payloads: Payload[]): Promise<StorageDriverClaim[]> {
    const ids = await this.blobStore.put(payloads.map((payload) => PayloadProto.encode(payload).finish()));
    return ids.map((id) => new StorageDriverClaim({ [blobIdClaimKey]: id }));
  }

  async retrieve(_context: StorageDriverRetrieveContext, claims: StorageDriverClaim[]): Promise<Payload[]> {
    const ids = claims.map((claim) => {
      const id = claim.claimData[blobIdClaimKey];
      if (!id) throw new ValueError(`Malformed payload blob claim: ${JSON.stringify(claim.claimData)}`);
      return id;
    });
    return (await this.blobStore.get(ids)).map((blob) => PayloadProto.decode(blob));
  }
}
