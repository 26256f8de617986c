// Opaque keyset page tokens, one format for every List RPC: base64url JSON of a fingerprint of the
// query that issued the page and the position after it (the last row's sort values, as strings). A
// token replayed against another query or RPC is refused rather than silently skipping rows.
import { createHash } from "node:crypto";
import type { Violations } from "./errors-interceptor.ts";

/** The longest token accepted (keeps a hostile one from costing a big parse). */
const MAX_TOKEN_LENGTH = 1024;

function fingerprint(query: unknown): string {
  return createHash("sha256").update(JSON.stringify(query)).digest("base64url").slice(0, 16);
}

/** The token of the page after `position` for `query` (e.g. `{ rpc: "ListOrders", ...filters }`). */
export function encodePageToken(query: unknown, position: readonly string[]): string {
  return Buffer.from(JSON.stringify([fingerprint(query), ...position])).toString("base64url");
}

export interface DecodePageTokenOptions {
  /** The request field named in the violation (default "page_token"). */
  field?: string;
  /** Whether a decoded position is well formed (its values reach SQL as parameters of a known type). */
  valid?: (position: readonly string[]) => boolean;
}

/**
 * The position in `token`, undefined for the first page (an empty token); a token not issued for
 * `query`, or malformed, is recorded as a violation of the field and gives undefined.
 */
export function decodePageToken(v: Violations, query: unknown, token: string, options: DecodePageTokenOptions = {}): string[] | undefined {
  if (token === "") return undefined;
  if (token.length <= MAX_TOKEN_LENGTH) {
    try {
      const decoded = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
      if (Array.isArray(decoded) && decoded[0] === fingerprint(query) && decoded.every((x) => typeof x === "string")) {
        const position = decoded.slice(1) as string[];
        if (options.valid?.(position) ?? true) return position;
      }
    } catch {
      // falls through to the violation
    }
  }
  v.add(options.field ?? "page_token", "is not a page token of this query (pass next_page_token of the previous page, with the same request otherwise)");
  return undefined;
}
