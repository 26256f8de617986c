// Opaque keyset page tokens: the sort key and id of the last row served, bound to the query they came
// from (a token replayed against another query is rejected rather than silently skipping rows).
import { createHash } from "node:crypto";
import { InvalidArgumentError } from "@bazaar/platform";

export interface Cursor {
  /** The last row's sort key (a decimal string; empty for id-only orders). */
  key: string;
  id: string;
}

export function fingerprint(query: unknown): string {
  return createHash("sha256").update(JSON.stringify(query)).digest("base64url").slice(0, 16);
}

export function encodePageToken(query: unknown, cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ f: fingerprint(query), k: cursor.key, i: cursor.id })).toString("base64url");
}

export function decodePageToken(token: string, query: unknown, field = "page_token"): Cursor | undefined {
  if (token === "") return undefined;
  const bad = () => new InvalidArgumentError({ field, description: "is not a page token of this query (use next_page_token of the previous page, with the same filters and sort)" });
  if (token.length > 512) throw bad();
  let parsed: { f?: unknown; k?: unknown; i?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  if (parsed.f !== fingerprint(query) || typeof parsed.k !== "string" || typeof parsed.i !== "string") throw bad();
  if (parsed.k !== "" && !/^-?\d+(\.\d+)?$/.test(parsed.k)) throw bad();
  if (!/^[0-9a-f-]{36}$/.test(parsed.i)) throw bad();
  return { key: parsed.k, id: parsed.i };
}
