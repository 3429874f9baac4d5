// Creates a tenant and prints its first API key (shown once; only its SHA-256 is stored).
// Usage: DATABASE_URL=… npx tsx scripts/create-tenant.ts "<tenant name>" [key name]
import { createPool } from '../db/pool.ts';
import { createTenantWithKey } from '../db/repositories/tenants.ts';
import { loadConfig } from '../domain/config.ts';

const config = loadConfig(process.env);
const [name, keyName] = process.argv.slice(2);
if (!name) {
  console.error('usage: tsx scripts/create-tenant.ts "<tenant name>" [key name]');
  process.exit(2);
}
const pool = createPool({ url: config.DATABASE_URL, max: 1 });
try {
  const created = await createTenantWithKey(pool, name, keyName ?? 'default');
  console.log(JSON.stringify({ tenant_id: created.tenantId, key_id: created.keyId, api_key: created.apiKey }, null, 2));
} finally {
  await pool.end();
}
