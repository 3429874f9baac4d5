// A small in-process LRU bounded by total bytes, not entry count: blobs range from 32 KiB to megabytes, so a count bound
// would either waste memory or cache almost nothing.
export class ByteBoundedLru<Value extends Uint8Array = Uint8Array> {
  private readonly entries = new Map<string, Value>();
  private totalBytes = 0;
  private readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get(key: string): Value | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Map keeps insertion order: re-inserting moves the entry to the most recently used end.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: Value): void {
    if (value.byteLength > this.maxBytes) return;
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      this.entries.delete(key);
      this.totalBytes -= existing.byteLength;
    }
    this.entries.set(key, value);
    this.totalBytes += value.byteLength;
    for (const [oldestKey, oldest] of this.entries) {
      if (this.totalBytes <= this.maxBytes) break;
      this.entries.delete(oldestKey);
      this.totalBytes -= oldest.byteLength;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }
}
