// Which tenant a caller is encoding for, when the database cannot say yet: the API starts a session's workflow inside
// the transaction that inserts its row, so the codec's lookup (tenant-encryption-codec.ts) does not see that row
// until the start returns. The API runs the start inside encodingForTenant; the codec then takes the hint instead of
// the lookup (which would also wait for a pool connection while the API's transaction holds one), and never caches it.
import { AsyncLocalStorage } from 'node:async_hooks';

const hint = new AsyncLocalStorage<string>();

export function encodingForTenant<T>(tenantId: string, fn: () => Promise<T>): Promise<T> {
  return hint.run(tenantId, fn);
}

export function hintedTenant(): string | undefined {
  return hint.getStore();
}
