// The by-key operations every tenant-owned table repeats: get one row, archive it, delete it, list a page of rows in
// `position` order. A repository names its table, the columns it returns and how a row becomes a record; the keys
// (`{ tenant_id, id }`, or `{ tenant_id, vault_id, id }` for a child table) are column names from code, never input.
import type { Queryable } from '../queryable.ts';
import { cursorCondition, pageOf, type ListOptions, type Page } from './pagination.ts';

/** Column → value; every pair is an equality in the WHERE clause. */
export type RowKeys = Record<string, unknown>;

export interface TenantTable<Record> {
  get(db: Queryable, keys: RowKeys): Promise<Record | undefined>;
  /** Sets `archived_at` once (archiving twice keeps the first time) and `updated_at`. */
  archive(db: Queryable, keys: RowKeys): Promise<Record | undefined>;
  /** True when a row was deleted. */
  remove(db: Queryable, keys: RowKeys): Promise<boolean>;
  /** A page in `position` order (newest first by default); archived rows only with `includeArchived`. */
  list(db: Queryable, keys: RowKeys, options: ListOptions): Promise<Page<Record>>;
}

function where(keys: RowKeys): { sql: string; params: unknown[] } {
  const names = Object.keys(keys);
  return { sql: names.map((name, index) => `${name} = $${index + 1}`).join(' and '), params: Object.values(keys) };
}

export function tenantTable<Row extends { position: string }, Record>(spec: {
  table: string;
  toRecord: (row: Row) => Record;
  /** The selected/returned columns (default `*`): leave out what must never leave the repository. */
  columns?: string;
  /** Whether the table has `archived_at` (list then hides archived rows unless asked). */
  archivable?: boolean;
}): TenantTable<Record> {
  const { table, toRecord } = spec;
  const columns = spec.columns ?? '*';
  const archivable = spec.archivable ?? true;
  return {
    async get(db, keys) {
      const clause = where(keys);
      const { rows } = await db.query<Row>(`select ${columns} from ${table} where ${clause.sql}`, clause.params);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },
    async archive(db, keys) {
      const clause = where(keys);
      const { rows } = await db.query<Row>(
        `update ${table} set archived_at = coalesce(archived_at, now()), updated_at = now()
         where ${clause.sql} returning ${columns}`,
        clause.params,
      );
      return rows[0] ? toRecord(rows[0]) : undefined;
    },
    async remove(db, keys) {
      const clause = where(keys);
      const { rowCount } = await db.query(`delete from ${table} where ${clause.sql}`, clause.params);
      return (rowCount ?? 0) > 0;
    },
    async list(db, keys, options) {
      const clause = where(keys);
      const params = [...clause.params];
      const next = () => `$${params.length}`;
      let filter = clause.sql;
      if (archivable) {
        params.push(options.includeArchived ?? false);
        filter += ` and (${next()} or archived_at is null)`;
      }
      params.push(options.limit + 1);
      const limit = next();
      const order = options.order ?? 'desc';
      const cursor = cursorCondition('position', { ...options, order }, params.length + 1);
      const { rows } = await db.query<Row>(
        `select ${columns} from ${table} where ${filter} and ${cursor.sql} order by position ${order} limit ${limit}`,
        [...params, ...cursor.params],
      );
      return pageOf(rows, options.limit, (row) => row.position, toRecord);
    },
  };
}
