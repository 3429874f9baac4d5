// Content-addressed blob store on Postgres `payload_blobs` for large payloads. Ids are the sha256 of the stored bytes:
// inserts are idempotent (retries, replays and duplicates never add rows) and every fetched blob is checked against its
// id before use. Callers store only encrypted payloads, so the table holds no plaintext.
import { createHash } from 'node:crypto';
import { ValueError } from '@temporalio/common';
import type { Pool } from 'pg';
import { ByteBoundedLru } from './byte-bounded-lru.ts';

const blobIdPrefix = 'sha256:';

export interface PostgresBlobStoreOptions {
  pool: Pick<Pool, 'query'>;
  /** Bytes of blobs kept in the in-process read cache (default 32 MiB). */
  cacheMaxBytes?: number;
}

export class PostgresBlobStore {
  private readonly pool: Pick<Pool, 'query'>;
  private readonly cache: ByteBoundedLru<Buffer>;

  constructor(options: PostgresBlobStoreOptions) {
    this.pool = options.pool;
    this.cache = new ByteBoundedLru(options.cacheMaxBytes ?? 32 * 1024 * 1024);
  }

  /** Stores the blobs in one round trip and returns their ids, in order. */
  async put(blobs: readonly Uint8Array[]): Promise<string[]> {
    const ids = blobs.map(blobIdOf);
    const unique = new Map<string, Buffer>();
    ids.forEach((id, index) => unique.set(id, Buffer.from(blobs[index]!)));
    if (unique.size === 0) return ids;
    await this.pool.query(
      `insert into payload_blobs (id, data)
       select * from unnest($1::text[], $2::bytea[])
       on conflict (id) do nothing`,
      [[...unique.keys()], [...unique.values()]],
    );
    for (const [id, blob] of unique) this.cache.set(id, blob);
    return ids;
  }

  /** Fetches blobs by id, in order, from the cache or in one query; throws if any is missing or corrupt. */
  async get(ids: readonly string[]): Promise<Buffer[]> {
    const found = new Map<string, Buffer>();
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      if (!id.startsWith(blobIdPrefix)) throw new ValueError(`Malformed payload blob id "${id}"`);
      const cached = this.cache.get(id);
      if (cached) found.set(id, cached);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const result = await this.pool.query<{ id: string; data: Buffer }>(
        'select id, data from payload_blobs where id = any($1::text[])',
        [missing],
      );
      for (const row of result.rows) {
        if (blobIdOf(row.data) !== row.id)
          throw new ValueError(`Payload blob ${row.id} does not match its content hash`);
        found.set(row.id, row.data);
        this.cache.set(row.id, row.data);
      }
    }
    return ids.map((id) => {
      const blob = found.get(id);
      if (!blob) throw new ValueError(`Payload blob ${id} not found in payload_blobs`);
      return blob;
    });
  }
}

export function blobIdOf(blob: Uint8Array): string {
  return blobIdPrefix + createHash('sha256').update(blob).digest('hex');
}
