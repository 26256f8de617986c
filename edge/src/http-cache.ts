// HTTP caching of Connect GET answers (NO_SIDE_EFFECTS methods): wraps the node response so the
// connect-node handler's output is buffered, then sent with a strong ETag (a hash of the bytes) and
// Cache-Control — or as 304 Not Modified when the request's If-None-Match names that ETag. Public
// answers are also kept in a small in-memory cache for their max-age, so repeated public reads are
// answered by the edge itself, as a CDN in front of it would.
import { createHash } from "node:crypto";
import type { NodeRequest, NodeResponse } from "./http-errors.ts";

type Headers = Record<string, string | string[] | number | undefined>;

export interface CachePolicy {
  /** Cache-Control of a successful answer, e.g. "public, max-age=30" or "private, no-store". */
  cacheControl: string;
  /** Called with each successful answer (to keep it in a ResponseCache). */
  store?: (entry: CachedResponse) => void;
}

export interface CachedResponse {
  headers: Headers;
  body: Buffer;
  etag: string;
}

export interface ResponseCache {
  /** The fresh entry for the key, if any. */
  get(key: string): CachedResponse | undefined;
  set(key: string, entry: CachedResponse): void;
}

/**
 * Least-recently-used, bounded by entries and bytes; entries expire after `ttlMs` by `now()` (default
 * Date.now; tests pass their own clock).
 */
export function createResponseCache(options: { ttlMs: number; maxEntries?: number; maxBytes?: number; now?: () => number }): ResponseCache {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 2_000;
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const entries = new Map<string, CachedResponse & { expires: number }>();
  let bytes = 0;
  const remove = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    bytes -= entry.body.length;
    entries.delete(key);
  };
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expires <= now()) {
        remove(key);
        return undefined;
      }
      entries.delete(key); // most recently used goes last
      entries.set(key, entry);
      return entry;
    },
    set(key, entry) {
      if (options.ttlMs <= 0 || entry.body.length > maxBytes / 16) return;
      remove(key);
      entries.set(key, { ...entry, expires: now() + options.ttlMs });
      bytes += entry.body.length;
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries && bytes <= maxBytes) break;
        remove(oldest);
      }
    },
  };
}

/** Answers from a cached entry: 304 when If-None-Match names its ETag, else the stored answer. */
export function sendCached(request: NodeRequest, response: NodeResponse, entry: CachedResponse, cacheControl: string): void {
  const common = { etag: entry.etag, "cache-control": cacheControl, vary: "Origin, Authorization, Accept-Encoding", "x-cache": "hit" };
  if (matches(request.headers["if-none-match"], entry.etag)) {
    const { "content-length": _length, "content-type": _type, "content-encoding": _encoding, ...rest } = entry.headers;
    response.writeHead(304, { ...rest, ...common });
    response.end();
    return;
  }
  response.writeHead(200, { ...entry.headers, ...common, "content-length": entry.body.length });
  response.end(request.method === "HEAD" ? undefined : entry.body);
}

/** Installs the buffering on `response`; call before handing it to connect-node. */
export function cacheGetResponse(request: NodeRequest, response: NodeResponse, policy: CachePolicy): void {
  const realWriteHead = response.writeHead.bind(response) as (status: number, headers?: Headers) => unknown;
  const realEnd = response.end.bind(response) as (chunk?: unknown) => unknown;
  let status = 200;
  let headers: Headers = {};
  const chunks: Buffer[] = [];
  const target = response as unknown as Record<string, unknown>;
  let headersWritten = false;
  target.writeHead = (code: number, ...rest: unknown[]) => {
    status = code;
    const last = rest.at(-1);
    if (last && typeof last === "object") headers = { ...(last as Headers) };
    headersWritten = true;
    return response;
  };
  Object.defineProperty(target, "headersSent", { configurable: true, get: () => headersWritten });
  target.write = (chunk: unknown, encoding?: unknown, callback?: unknown) => {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array | string));
    const done = typeof encoding === "function" ? encoding : callback;
    if (typeof done === "function") queueMicrotask(() => (done as () => void)());
    return true;
  };
  target.end = (chunk?: unknown, ...rest: unknown[]) => {
    if (chunk && typeof chunk !== "function") chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array | string));
    delete target.headersSent;
    const body = Buffer.concat(chunks);
    const done = [chunk, ...rest].find((x) => typeof x === "function") as (() => void) | undefined;
    if (status !== 200) {
      realWriteHead(status, { ...headers, "cache-control": "no-store" });
      realEnd(body);
    } else {
      const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 32)}"`;
      const common = { etag, "cache-control": policy.cacheControl, vary: "Origin, Authorization, Accept-Encoding" };
      policy.store?.({ headers, body, etag });
      if (matches(request.headers["if-none-match"], etag)) {
        const { "content-length": _length, "content-type": _type, ...rest304 } = headers;
        realWriteHead(304, { ...rest304, ...common });
        realEnd();
      } else {
        realWriteHead(200, { ...headers, ...common, "content-length": body.length });
        realEnd(request.method === "HEAD" ? undefined : body);
      }
    }
    if (done) queueMicrotask(done);
    // connect-node waits for "end" before it considers the response written.
    queueMicrotask(() => response.emit("end"));
    return response;
  };
}

function matches(header: string | string[] | undefined, etag: string): boolean {
  if (!header) return false;
  const value = Array.isArray(header) ? header.join(",") : header;
  return value.split(",").some((candidate) => {
    const c = candidate.trim();
    return c === "*" || c === etag || c === `W/${etag}`;
  });
}
