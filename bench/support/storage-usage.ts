// What idle sessions leave in storage: PostgreSQL bytes per table (pg_total_relation_size: heap, TOAST, indexes) and
// live rows, and the size of the Temporal dev server's SQLite database (the file, its write-ahead log, its shared
// memory index). Read before and after a phase; the difference over the phase's sessions is the per-session cost.
import { existsSync, statSync } from 'node:fs';
import type pg from 'pg';

export interface TableUsage {
  bytes: number;
  rows: number;
}

/** Every table of the public schema: total bytes (with indexes and TOAST) and live rows (pg_stat_user_tables). */
export async function tableUsage(pool: pg.Pool): Promise<Record<string, TableUsage>> {
  const { rows } = await pool.query<{ name: string; bytes: string; rows: string }>(
    `select c.relname as name, pg_total_relation_size(c.oid) as bytes, coalesce(s.n_live_tup, 0) as rows
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       left join pg_stat_user_tables s on s.relid = c.oid
      where c.relkind in ('r', 'p') and n.nspname = 'public'`,
  );
  return Object.fromEntries(rows.map((row) => [row.name, { bytes: Number(row.bytes), rows: Number(row.rows) }]));
}

export interface TableGrowth extends TableUsage {
  table: string;
  bytesPerSession: number;
}

/** The tables that grew between two readings (bytes or rows), largest first, with bytes per session. */
export function tableGrowth(
  before: Record<string, TableUsage>,
  after: Record<string, TableUsage>,
  sessions: number,
): TableGrowth[] {
  return Object.entries(after)
    .map(([table, usage]) => {
      const bytes = usage.bytes - (before[table]?.bytes ?? 0);
      return {
        table,
        bytes,
        rows: usage.rows - (before[table]?.rows ?? 0),
        bytesPerSession: perSession(bytes, sessions),
      };
    })
    .filter((growth) => growth.bytes !== 0 || growth.rows !== 0)
    .sort((a, b) => b.bytes - a.bytes);
}

export const totalBytes = (usage: Record<string, TableUsage>) =>
  Object.values(usage).reduce((sum, table) => sum + table.bytes, 0);

export const perSession = (bytes: number, sessions: number) => Math.round(bytes / Math.max(1, sessions));

export interface SqliteFileSizes {
  db: number;
  wal: number;
  shm: number;
  total: number;
}

/** The SQLite database's size on disk: the main file plus its -wal and -shm companions (absent ones count 0). */
export function sqliteFileSizes(dbFile: string): SqliteFileSizes {
  const size = (path: string) => (existsSync(path) ? statSync(path).size : 0);
  const db = size(dbFile);
  const wal = size(`${dbFile}-wal`);
  const shm = size(`${dbFile}-shm`);
  return { db, wal, shm, total: db + wal + shm };
}
