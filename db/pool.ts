// The one way a process opens PostgreSQL: a pg pool that survives the server going away. pg reports a pooled idle
// connection's death as an 'error' event on the pool, and an EventEmitter with no 'error' listener throws — the
// process dies (what stopping PostgreSQL mid-turn did to every worker). Here the pool logs it and drops the
// connection; the next query opens a fresh one, and a query while the server is down fails within
// `connectTimeoutMs` (the API answers 503, an activity fails and Temporal retries it with backoff).
import pg from 'pg';

export interface PoolLog {
  warn(details: object, message: string): void;
}

export interface PoolOptions {
  url: string;
  max: number;
  log?: PoolLog;
  /** How long a query waits for a connection before failing (default 5 s). */
  connectTimeoutMs?: number;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    // TCP keep-alive notices a silently vanished server (a cut network) on idle connections too.
    keepAlive: true,
    idleTimeoutMillis: 30_000,
  });
  let lastWarned = 0;
  pool.on('error', (error) => {
    // One line per outage burst is enough: every idle connection fails at once when the server stops.
    if (Date.now() - lastWarned < 1_000) return;
    lastWarned = Date.now();
    options.log?.warn({ err: error.message }, 'idle PostgreSQL connection lost; the next query reconnects');
  });
  return pool;
}

/**
 * A checked-out client errors outside a query (the server closed it between two statements): without a listener that
 * would throw too. Returns a detach function; the error itself surfaces on the client's next query.
 */
export function guardClient(client: pg.PoolClient): () => void {
  const ignore = () => undefined;
  client.on('error', ignore);
  return () => client.removeListener('error', ignore);
}
