// A project-local PostgreSQL cluster from the system's binaries. initdb and postgres refuse to run as root, so as root
// they run as the `postgres` system user (runuser) on a data folder it owns; as anyone else, as themselves.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { startProcess, waitUntil, type ManagedProcess } from './process.ts';

export interface LocalPostgresOptions {
  binDir: string;
  dataDir: string;
  port: number;
  logFile: string;
  user?: string;
  database?: string;
  /** A throwaway cluster (tests): skip fsync. */
  ephemeral?: boolean;
}

export interface LocalPostgres {
  url: string;
  process: ManagedProcess;
}

const runningAsRoot = () => process.getuid?.() === 0;

function asServerUser(command: string, args: string[]): [string, string[]] {
  return runningAsRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function postgresUid(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const user = options.user ?? 'agents';
  const database = options.database ?? 'agents';
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) {
    mkdirSync(options.dataDir, { recursive: true });
    if (runningAsRoot()) {
      const { uid, gid } = postgresUid();
      chownSync(options.dataDir, uid, gid);
    }
    const [command, args] = asServerUser(join(options.binDir, 'initdb'), [
      '-D',
      options.dataDir,
      '-U',
      user,
      '--auth=trust',
      '--encoding=UTF8',
      '--no-instructions',
    ]);
    execFileSync(command, args, { stdio: 'pipe' });
  }
  mkdirSync(dirname(options.logFile), { recursive: true });
  const [command, args] = asServerUser(join(options.binDir, 'postgres'), [
    '-D',
    options.dataDir,
    '-p',
    String(options.port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${options.dataDir}`,
    '-c',
    'max_connections=200',
    ...(options.ephemeral ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off'] : []),
  ]);
  const proc = startProcess('postgres', command, args, { logFile: options.logFile });
  const adminUrl = `postgres://${user}@127.0.0.1:${options.port}/postgres`;
  await waitUntil('PostgreSQL', () => queryAnswers(adminUrl), { process: proc, timeoutMs: 30_000 });
  await createDatabaseIfMissing(adminUrl, database);
  return { url: `postgres://${user}@127.0.0.1:${options.port}/${database}`, process: proc };
}

export async function queryAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) await client.query(`create database ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
