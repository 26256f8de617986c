import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { Logger } from "../logger.ts";
import type { Registry } from "../metrics.ts";
import type { Health } from "./health.ts";

type Request = IncomingMessage | Http2ServerRequest;
/** What this needs of an HTTP/1 or HTTP/2 response. */
interface Response {
  readonly headersSent: boolean;
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(): unknown;
  end(chunk: string): unknown;
}

/** Largest webhook body read; a larger one is refused with 413 before the handler sees it. */
export const WEBHOOK_MAX_BYTES = 1024 * 1024;
/** A webhook body must arrive within this long (the server itself has no request timeout, for streams). */
export const WEBHOOK_READ_TIMEOUT_MS = 10_000;

/** The plain-HTTP paths served beside the RPCs. RPC paths always contain a dot, these never do. */
export const httpPaths = ["/metrics", "/healthz", "/readyz"] as const;

/** A document a service publishes at a fixed GET path beside its RPCs, e.g. identity's JWKS. */
export type HttpDocument = () =>
  | Promise<{ contentType: string; body: string; cacheControl?: string }>
  | { contentType: string; body: string; cacheControl?: string };

/**
 * A receiver of POSTed callbacks from outside the mesh (e.g. a payment gateway's events, a mail
 * client's one-click unsubscribe), by path. It gets the raw body (signatures are computed over the exact
 * bytes), the headers and the URL's query, and says what to answer. A thrown error answers 500 (the
 * sender retries) and is logged.
 */
export type WebhookHandler = (request: { body: Buffer; headers: Headers; query: URLSearchParams }) => Promise<{ status: number; body?: string }>;

export interface HttpRouteDeps {
  registry: Registry;
  health: Health;
  documents?: Readonly<Record<string, HttpDocument>> | undefined;
  webhooks?: Readonly<Record<string, WebhookHandler>> | undefined;
  /** Where failing webhook handlers are logged. */
  logger?: Logger | undefined;
  /** Whether /metrics is served here (default true; false where it has a port of its own). */
  metrics?: boolean;
}

/**
 * Answers GET/HEAD /metrics (Prometheus text), /healthz (the process is alive: 200) and /readyz (200
 * only while the health says SERVING, else 503; its JSON body names the failing and the degraded
 * checks), the service's documents (GET/HEAD) and webhooks (POST). Returns false for any other path,
 * so the caller routes it to the RPCs.
 */
export function handleHttpRoute(request: Request, response: Response, deps: HttpRouteDeps): boolean {
  const path = (request.url ?? "").split("?", 1)[0] ?? "";
  const webhook = Object.hasOwn(deps.webhooks ?? {}, path) ? deps.webhooks![path] : undefined;
  if (webhook) {
    if (request.method !== "POST") send(request, response, 405, "text/plain; charset=utf-8", "method not allowed\n", { allow: "POST" });
    else void receiveWebhook(request, response, webhook, deps.logger);
    return true;
  }
  const document = Object.hasOwn(deps.documents ?? {}, path) ? deps.documents![path] : undefined;
  if (!document && !(httpPaths as readonly string[]).includes(path)) return false;
  if (path === "/metrics" && deps.metrics === false) return false;
  if (request.method !== "GET" && request.method !== "HEAD") {
    send(request, response, 405, "text/plain; charset=utf-8", "method not allowed\n", { allow: "GET, HEAD" });
    return true;
  }
  if (document) {
    Promise.resolve()
      .then(document)
      .then(
        (d) => send(request, response, 200, d.contentType, d.body, d.cacheControl ? { "cache-control": d.cacheControl } : {}),
        (error: unknown) => send(request, response, 503, "text/plain; charset=utf-8", `unavailable: ${String(error)}\n`),
      );
    return true;
  }
  switch (path) {
    case "/healthz":
      send(request, response, 200, "text/plain; charset=utf-8", "ok\n");
      break;
    case "/readyz": {
      // Degraded non-critical checks are named even while ready: a probe reads only the status code,
      // a person or a dashboard sees what the service is doing without.
      const status = deps.health.status("") ?? "NOT_SERVING";
      const failing = status === "SERVING" ? [] : deps.health.failing();
      const body = { status, failing: status === "SERVING" || failing.length ? failing : ["starting"], degraded: deps.health.degraded() };
      send(request, response, status === "SERVING" ? 200 : 503, "application/json", `${JSON.stringify(body)}\n`);
      break;
    }
    case "/metrics":
      deps.registry.metrics().then(
        (text) => send(request, response, 200, deps.registry.contentType, text),
        (error: unknown) => send(request, response, 500, "text/plain; charset=utf-8", `metrics unavailable: ${String(error)}\n`),
      );
      break;
  }
  return true;
}

async function receiveWebhook(request: Request, response: Response, handler: WebhookHandler, logger: Logger | undefined): Promise<void> {
  const text = "text/plain; charset=utf-8";
  // The rest of a refused body is never read: an HTTP/1.1 connection cannot carry another request.
  const close: Record<string, string> = request.httpVersionMajor === 1 ? { connection: "close" } : {};
  const body = await readBody(request, WEBHOOK_MAX_BYTES, WEBHOOK_READ_TIMEOUT_MS);
  if (body === "too large") return send(request, response, 413, text, `request body larger than ${WEBHOOK_MAX_BYTES} bytes\n`, close);
  if (body === "timeout") return send(request, response, 408, text, "request body not received in time\n", close);
  if (body === "aborted") return;
  try {
    const answer = await handler({ body, headers: toHeaders(request.headers), query: queryOf(request.url ?? "") });
    send(request, response, answer.status, text, answer.body ?? "");
  } catch (error) {
    logger?.error({ err: error, path: request.url }, "webhook handler failed");
    send(request, response, 500, text, "internal error\n");
  }
}

const queryOf = (url: string) => new URLSearchParams(url.includes("?") ? url.slice(url.indexOf("?") + 1) : "");

/** The whole body, unless it is larger than `maxBytes` (stops reading at once), too slow or cut off. */
function readBody(request: Request, maxBytes: number, timeoutMs: number): Promise<Buffer | "too large" | "timeout" | "aborted"> {
  const declared = Number(request.headers["content-length"] ?? Number.NaN);
  if (declared > maxBytes) return Promise.resolve("too large");
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: Buffer | "too large" | "timeout" | "aborted") => {
      clearTimeout(timer);
      request.removeListener("data", onData);
      request.removeListener("end", onEnd);
      request.removeListener("error", onAbort);
      request.removeListener("aborted", onAbort);
      // What is left of a refused body is not read (the connection closes after the answer).
      if (typeof result === "string") request.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish("too large");
      else chunks.push(chunk);
    };
    const onEnd = () => finish(Buffer.concat(chunks, size));
    const onAbort = () => finish("aborted");
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    request.on("data", onData);
    request.once("end", onEnd);
    request.once("error", onAbort);
    request.once("aborted", onAbort);
  });
}

function toHeaders(incoming: Request["headers"]): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (name.startsWith(":") || value === undefined) continue; // HTTP/2 pseudo-headers
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, String(v));
  }
  return headers;
}

function send(request: Request, response: Response, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  response.writeHead(status, { "content-type": contentType, "cache-control": "no-store", ...headers });
  // HEAD gets the headers only; Node drops the body of a HEAD response on HTTP/1 but not on HTTP/2.
  if (request.method === "HEAD") response.end();
  else response.end(body);
}
