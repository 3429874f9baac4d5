// Creates a platform admin key and prints it (shown once; only its SHA-256 is stored). An admin key manages tenants
// and their keys through /v1/admin/… and reaches nothing else.
// Usage: DATABASE_URL=… npx tsx scripts/create-admin-key.ts [key name]
import { issueApiKey } from '../db/repositories/api-keys.ts';
import { createPool } from '../db/pool.ts';
import { loadConfig } from '../domain/config.ts';

const config = loadConfig(process.env);
const pool = createPool({ url: config.DATABASE_URL, max: 1 });
try {
  const { record, key } = await issueApiKey(pool, { tenantId: null, name: process.argv[2] ?? 'admin', scope: 'admin' });
  console.log(JSON.stringify({ key_id: record.id, api_key: key }, null, 2));
} finally {
  await pool.end();
}
