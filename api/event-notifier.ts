// One PostgreSQL LISTEN connection per API process, fanned out in-process: the events channel wakes the streams of a
// session (they re-read the journal after their last seq, so a lost or merged notification loses nothing), and the
// deltas channel carries live token deltas to the streams that asked for them. After a reconnect every stream is
// woken, since notifications sent while disconnected are gone.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { DeltaMessage } from '../domain/contracts/delta-message.ts';
import {
  sessionDeltasChannel,
  sessionEventsChannel,
  sessionOfEventsNotice,
} from '../db/repositories/session-events.ts';

export interface SessionListener {
  wake(): void;
  delta?(notice: DeltaMessage): void;
}

export class EventNotifier {
  private readonly listeners = new Map<string, Set<SessionListener>>();
  private client: pg.PoolClient | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;

  private readonly pool: pg.Pool;
  private readonly logger: Logger;

  constructor(pool: pg.Pool, logger: Logger) {
    this.pool = pool;
    this.logger = logger;
  }

  /** Registers a listener; resolves once LISTEN is in place, so nothing committed afterwards is missed. */
  async subscribe(sessionId: string, listener: SessionListener): Promise<() => void> {
    const set = this.listeners.get(sessionId) ?? new Set();
    set.add(listener);
    this.listeners.set(sessionId, set);
    try {
      await this.ensureConnected();
    } catch (error) {
      this.remove(sessionId, listener);
      throw error;
    }
    return () => this.remove(sessionId, listener);
  }

  /** Listeners registered over all sessions (one per open stream); closed streams must bring it back down. */
  get listenerCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('notification');
      client.removeAllListeners('error');
      client.release(true);
    }
  }

  private remove(sessionId: string, listener: SessionListener): void {
    const set = this.listeners.get(sessionId);
    set?.delete(listener);
    if (set?.size === 0) this.listeners.delete(sessionId);
  }

  private async ensureConnected(): Promise<void> {
    if (this.client) return;
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    await this.connecting;
  }

  private async connect(): Promise<void> {
    if (this.closed) throw new Error('event notifier closed');
    const client = await this.pool.connect();
    client.on('notification', (message) => this.dispatch(message.channel, message.payload ?? ''));
    client.on('error', (error) => this.lost(client, error));
    try {
      await client.query(`listen ${sessionEventsChannel}`);
      await client.query(`listen ${sessionDeltasChannel}`);
    } catch (error) {
      client.release(true);
      throw error;
    }
    this.client = client;
  }

  private lost(client: pg.PoolClient, error: Error): void {
    if (this.client !== client) return;
    this.logger.warn({ err: error }, 'LISTEN connection lost; reconnecting');
    this.client = undefined;
    client.release(true);
    // Back off while the server stays away (200 ms, doubling to 5 s); the first stream to subscribe meanwhile also
    // tries, and fails fast into a 503.
    let delayMs = 200;
    const retry = () => {
      if (this.closed || this.listeners.size === 0) return;
      this.ensureConnected().then(
        () => this.wakeAll(),
        () => {
          delayMs = Math.min(delayMs * 2, 5_000);
          this.retryTimer = setTimeout(retry, delayMs);
        },
      );
    };
    this.retryTimer = setTimeout(retry, delayMs);
  }

  private wakeAll(): void {
    for (const set of this.listeners.values()) for (const listener of set) listener.wake();
  }

  private dispatch(channel: string, payload: string): void {
    if (channel === sessionEventsChannel) {
      const sessionId = sessionOfEventsNotice(payload);
      for (const listener of this.listeners.get(sessionId) ?? []) listener.wake();
      return;
    }
    if (channel === sessionDeltasChannel) {
      let notice: DeltaMessage;
      try {
        notice = JSON.parse(payload) as DeltaMessage;
      } catch {
        return;
      }
      for (const listener of this.listeners.get(notice.session_id) ?? []) listener.delta?.(notice);
    }
  }
}
