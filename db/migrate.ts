// Applies the SQL migrations in db/migrations with node-pg-migrate (a maintained tool with a lock and a
// migrations table), so every process and test sees the same schema. Run: `npm run migrate` (uses DATABASE_URL).
import { join } from 'node:path';
import { runner } from 'node-pg-migrate';

export async function migrateDatabase(databaseUrl: string, log: (message: string) => void = () => {}): Promise<void> {
  await runner({
    databaseUrl,
    dir: join(import.meta.dirname, 'migrations'),
    direction: 'up',
    migrationsTable: 'pgmigrations',
    count: Infinity,
    log,
    noLock: false,
    checkOrder: true,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // eslint-disable-next-line no-restricted-syntax -- this is the command-line entry point
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('DATABASE_URL is not set');
    process.exit(2);
  }
  await migrateDatabase(url, console.log);
}
