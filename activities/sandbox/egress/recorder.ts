// Batches the proxy's connection records into the egress log: written every flushIntervalMs, and on demand (a tool
// call waits for its own connections to be written before it returns, so the trace shows them with the result).
import type pg from 'pg';
import { insertEgressRecords, type EgressLogEntry } from '../../../db/repositories/egress-log.ts';

export class EgressRecorder {
  private pending: EgressLogEntry[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly pool: pg.Pool;
  private readonly onError: (error: unknown) => void;

  constructor(pool: pg.Pool, options: { flushIntervalMs?: number; onError?: (error: unknown) => void } = {}) {
    this.pool = pool;
    this.onError = options.onError ?? (() => undefined);
    this.timer = setInterval(() => void this.flush().catch(this.onError), options.flushIntervalMs ?? 1_000);
    this.timer.unref();
  }

  add(entry: EgressLogEntry): void {
    this.pending.push(entry);
  }

  /** Writes everything recorded so far (after any write already under way). */
  flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.writing = this.writing
      .catch(() => undefined)
      .then(() => insertEgressRecords(this.pool, batch))
      .catch((error: unknown) => {
        // Kept for the next flush rather than lost.
        this.pending = [...batch, ...this.pending];
        throw error;
      });
    return this.writing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(this.onError);
  }
}
