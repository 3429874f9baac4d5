// Opaque page cursors over a table's `position` (or a journal's `seq`): clients pass back what we gave them.
import { InvalidInputError } from '../../domain/errors.ts';

export interface Page<T> {
  data: T[];
  next_page: string | null;
}

export const encodeCursor = (position: number | string): string =>
  Buffer.from(`p:${position}`, 'utf8').toString('base64url');

/** The position a cursor stands for; throws InvalidInputError for anything we did not issue. */
export function decodeCursor(page: string): number {
  const text = Buffer.from(page, 'base64url').toString('utf8');
  const match = /^p:(\d{1,18})$/.exec(text);
  if (!match?.[1]) throw new InvalidInputError('the page cursor is invalid');
  return Number(match[1]);
}

/** Rows were fetched with `limit + 1`: trims the extra one and derives the next cursor from the last kept row. */
export function pageOf<Row, T>(
  rows: Row[],
  limit: number,
  positionOf: (row: Row) => number | string,
  map: (row: Row) => T,
): Page<T> {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  return {
    data: kept.map(map),
    next_page: rows.length > limit && last !== undefined ? encodeCursor(positionOf(last)) : null,
  };
}

/** `pageOf` for rows returned as they are. */
export const pageOfRows = <Row extends { position: number | string }>(rows: Row[], limit: number): Page<Row> =>
  pageOf(
    rows,
    limit,
    (row) => row.position,
    (row) => row,
  );

export interface ListOptions {
  limit: number;
  page?: string;
  order?: 'asc' | 'desc';
  includeArchived?: boolean;
}

/** SQL fragment and parameter for "after the cursor" in the given order; parameter index is `$<index>`. */
export function cursorCondition(
  column: string,
  options: ListOptions,
  index: number,
): { sql: string; params: number[] } {
  if (!options.page) return { sql: 'true', params: [] };
  const position = decodeCursor(options.page);
  return { sql: `${column} ${options.order === 'asc' ? '>' : '<'} $${index}`, params: [position] };
}

/** The `created_at[gt|gte|lt|lte]` bounds of a list request; an absent bound does not filter. */
export interface CreatedRange {
  createdGt?: string;
  createdGte?: string;
  createdLt?: string;
  createdLte?: string;
}

/** SQL fragment and parameters for the created-at bounds on `column`, numbered from `$<index>` (4 parameters). */
export function createdRangeCondition(
  column: string,
  range: CreatedRange,
  index: number,
): { sql: string; params: (string | null)[] } {
  const bounds = [
    ['>', range.createdGt],
    ['>=', range.createdGte],
    ['<', range.createdLt],
    ['<=', range.createdLte],
  ] as const;
  return {
    sql: bounds
      .map(([op], offset) => `($${index + offset}::timestamptz is null or ${column} ${op} $${index + offset})`)
      .join(' and '),
    params: bounds.map(([, value]) => value ?? null),
  };
}

export const isoOrNull = (value: Date | null): string | null => (value ? value.toISOString() : null);

export type Metadata = Record<string, string>;

/** Applies a metadata patch: a string upserts the key, null deletes it. */
export function patchMetadata(current: Metadata, patch: Record<string, string | null> | null | undefined): Metadata {
  if (patch === null) return {};
  if (!patch) return current;
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}
