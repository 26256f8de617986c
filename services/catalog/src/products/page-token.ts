// Keyset page tokens of catalog listings: the sort key and id of the last row served, in the
// platform's query-bound token format.
import { decodePageToken as decode, encodePageToken as encode, violations } from "@bazaar/platform";

export interface Cursor {
  /** The last row's sort key (a decimal string; empty for id-only orders). */
  key: string;
  id: string;
}

export function encodePageToken(query: unknown, cursor: Cursor): string {
  return encode(query, [cursor.key, cursor.id]);
}

/** The cursor in `token` (undefined for the first page); INVALID_ARGUMENT naming `field` when foreign. */
export function decodePageToken(token: string, query: unknown, field = "page_token"): Cursor | undefined {
  const v = violations();
  const position = decode(v, query, token, {
    field,
    valid: ([key, id, ...rest]) => rest.length === 0 && key !== undefined && /^(-?\d+(\.\d+)?)?$/.test(key) && /^[0-9a-f-]{36}$/.test(id ?? ""),
  });
  v.throwIfAny();
  return position && { key: position[0]!, id: position[1]! };
}
