// One transaction on one pooled connection: commit when `work` resolves, roll back when it throws, always release
// (a connection that failed is destroyed rather than returned to the pool).
import type pg from 'pg';
import { guardClient } from './pool.ts';

export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const unguard = guardClient(client);
  let failure: Error | undefined;
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    await client.query('rollback').then(
      () => (failure = undefined), // the connection is fine: the error was the work's own
      () => undefined,
    );
    throw error;
  } finally {
    unguard();
    client.release(failure);
  }
}
