// Keyset paging, one way for every List RPC: the request's page_size and page_token are read with the
// other fields (violations reported together), then a Kysely select is cut after the token's position
// on sort columns that are unique together, one row more than the page is read to know if another
// follows, and the next token holds the last row's sort values. No OFFSET: a page costs the same deep
// in the list, and rows inserted meanwhile neither repeat nor vanish.
import { sql, type SelectQueryBuilder } from "kysely";
import type { Violations } from "../errors-interceptor.ts";
import { checkPageSize, type PageSizeRule } from "../field-rules.ts";
import { decodePageToken, encodePageToken } from "../page-tokens.ts";

/** The order of a listing: columns unique together (end with the primary key), all one direction. */
export interface Keyset {
  columns: readonly string[];
  direction: "asc" | "desc";
  /** Whether a decoded position is well formed (default: one string per column). */
  valid?: (position: readonly string[]) => boolean;
}

/** Where a page starts and how long it is: from `readPage`, given to `keysetPage`. */
export interface PageCursor {
  size: number;
  /** The sort values of the previous page's last row; undefined for the first page. */
  after?: readonly string[];
  /** What the token is bound to: the RPC, its filters and the keyset. */
  query: unknown;
  keyset: Keyset;
}

export interface Page<Row> {
  rows: Row[];
  /** Empty when this page is the last. */
  nextPageToken: string;
}

/**
 * Reads `page_size` (by `rule`) and `page_token` of a List request. `query` names the RPC and its
 * filters: a token issued for other filters is a violation of page_token, not a silent skip.
 */
export function readPage(v: Violations, request: { pageSize: number; pageToken: string }, rule: PageSizeRule, query: unknown, keyset: Keyset): PageCursor {
  const size = checkPageSize(v, request.pageSize, rule);
  const bound = { query, order: [...keyset.columns, keyset.direction] };
  const after = decodePageToken(v, bound, request.pageToken, {
    valid: (position) => position.length === keyset.columns.length && (keyset.valid?.(position) ?? true),
  });
  return { size, query: bound, keyset, ...(after ? { after } : {}) };
}

function positionValue(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

/**
 * One page of `select` (filters applied, no order or limit yet) after `cursor`. `position` gives a
 * row's sort values; by default the row's properties named as the columns (without a table prefix).
 */
export async function keysetPage<DB, TB extends keyof DB, Row>(
  select: SelectQueryBuilder<DB, TB, Row>,
  cursor: PageCursor,
  position: (row: Row) => readonly unknown[] = (row) => cursor.keyset.columns.map((column) => (row as Record<string, unknown>)[column.split(".").at(-1)!]),
): Promise<Page<Row>> {
  const { columns, direction } = cursor.keyset;
  let query = select;
  if (cursor.after) {
    // A row comparison, so that PostgreSQL can walk an index on the same columns.
    const columnList = sql.join(columns.map((column) => sql.ref(column)));
    query = query.where(sql<boolean>`(${columnList}) ${sql.raw(direction === "asc" ? ">" : "<")} (${sql.join([...cursor.after])})`);
  }
  for (const column of columns) query = query.orderBy(sql.ref(column), direction);
  const rows = await query.limit(cursor.size + 1).execute();
  const page = rows.slice(0, cursor.size);
  const last = page.at(-1);
  const more = rows.length > cursor.size && last !== undefined;
  return { rows: page, nextPageToken: more ? encodePageToken(cursor.query, position(last).map(positionValue)) : "" };
}
