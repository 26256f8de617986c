import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
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

/** The plain-HTTP paths served beside the RPCs. RPC paths always contain a dot, these never do. */
export const httpPaths = ["/metrics", "/healthz", "/readyz"] as const;

/** A document a service publishes at a fixed GET path beside its RPCs, e.g. identity's JWKS. */
export type HttpDocument = () =>
  | Promise<{ contentType: string; body: string; cacheControl?: string }>
  | { contentType: string; body: string; cacheControl?: string };

/**
 * Answers GET/HEAD /metrics (Prometheus text), /healthz (the process is alive: 200) and /readyz (200
 * only while the health says SERVING, else 503 naming the failing checks). Returns false for any
 * other path, so the caller routes it to the RPCs.
 */
export function handleHttpRoute(
  request: Request,
  response: Response,
  deps: { registry: Registry; health: Health; documents?: Readonly<Record<string, HttpDocument>> },
): boolean {
  const path = (request.url ?? "").split("?", 1)[0] ?? "";
  const document = Object.hasOwn(deps.documents ?? {}, path) ? deps.documents![path] : undefined;
  if (!document && !(httpPaths as readonly string[]).includes(path)) return false;
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
      const ready = deps.health.status("") === "SERVING";
      send(request, response, ready ? 200 : 503, "text/plain; charset=utf-8", ready ? "ready\n" : `not ready: ${deps.health.failing().join(", ") || "starting"}\n`);
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

function send(request: Request, response: Response, status: number, contentType: string, body: string, headers: Record<string, string> = {}) {
  if (response.headersSent) return;
  response.writeHead(status, { "content-type": contentType, "cache-control": "no-store", ...headers });
  // HEAD gets the headers only; Node drops the body of a HEAD response on HTTP/1 but not on HTTP/2.
  if (request.method === "HEAD") response.end();
  else response.end(body);
}
