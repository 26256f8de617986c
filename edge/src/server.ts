// The edge: the platform's one-port server (gRPC, gRPC-Web, Connect JSON/binary over HTTP/1.1 and
// HTTP/2, health, reflection, /metrics, graceful drain, error mapping) serving the public surface with
// the generic forwarders, plus the edge's own front — security headers, CORS, per-address rate limit,
// body size limit, GET cache, access log — run before the platform's routes and RPCs.
import { randomUUID } from "node:crypto";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, cors, createContextValues } from "@connectrpc/connect";
import {
  CART_TOKEN_HEADER,
  createHealth,
  createMetricsRegistry,
  createRpcServer,
  errorsInterceptor,
  isGrpcRequest,
  redMetricsInterceptor,
  serverTracingInterceptor,
  startRequestSpan,
  watchConsulKv,
  type ConsulKvWatch,
  type Health,
  type HttpDocument,
  type Logger,
  type TokenVerifier,
  type Upstreams,
} from "@bazaar/platform";
import { createClientAddress } from "./client-address.ts";
import { docsHtml, docsScript } from "./docs.ts";
import { clientAddressKey, createForwarder } from "./forward.ts";
import { cacheGetResponse, createResponseCache, sendCached } from "./http-cache.ts";
import { sendError, type AnyNodeResponse, type NodeRequest, type NodeResponse } from "./http-errors.ts";
import type { PageHandler } from "@bazaar/web";
import { generateOpenApi } from "./openapi.ts";
import { publicServices, type PublicService } from "./public-services.ts";
import { createRateLimiter, rateLimitsSchema, type RateLimits } from "./rate-limit.ts";
import { surface as defaultSurface, type SurfaceEntry } from "./surface.ts";

export interface EdgeOptions {
  logger: Logger;
  /** Verifies bearer tokens before forwarding (identity's JWKS). */
  verifier: TokenVerifier;
  consulAddr: string;
  /** Default: the declared surface (surface.ts). */
  surface?: readonly SurfaceEntry[];
  /** Consul names of the services forwarded to, by default name (tests point at uniquely named services). */
  upstreams?: Upstreams;
  /** Where /.well-known/jwks.json is proxied from (identity's). Default: not served. */
  jwksUrl?: string;
  /** Default "127.0.0.1" (main.ts passes SERVICE_HOST). */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** /metrics is served only here, never on the public port. Default 0: any free port (listen() says which). */
  metricsPort?: number;
  /** Exact origins allowed by CORS. Default none. */
  corsOrigins?: readonly string[];
  /** Default 1 MiB. */
  maxBodyBytes?: number;
  /** Default 10 000 ms. */
  defaultDeadlineMs?: number;
  /** Default 30 000 ms. */
  maxDeadlineMs?: number;
  /** max-age of public cacheable answers. Default 30 s. */
  cacheMaxAgeSeconds?: number;
  /** Consul KV key of the rate limits. Default "bazaar/edge/rate-limits". */
  rateLimitsKey?: string;
  /**
   * Proxies (IP addresses or CIDRs) whose x-forwarded-for is believed: the client address is the
   * right-most hop that is not one of them. Default none: the socket's address, whatever the headers say.
   */
  trustedProxies?: readonly string[];
  /** How long close() lets in-flight requests finish before cutting connections. Default 5 000 ms. */
  closeGraceMs?: number;
  /**
   * The storefront's pages (@bazaar/web): GET/HEAD requests that are neither an RPC nor one of the
   * edge's own paths, so pages and API share one origin. Without it, `/` is the API docs.
   */
  pages?: PageHandler;
}

/** Paths probes and Consul's check call every few seconds: logged at debug, not info. */
const healthCheckPaths = new Set(["/healthz", "/readyz", "/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"]);

export interface Edge {
  /** Starts accepting once the rate limits are read from Consul KV; resolves with the bound port and the metrics port. */
  listen(): Promise<{ port: number; metricsPort?: number }>;
  /**
   * Readiness (/readyz, grpc.health): its shutdown() is the first step of a graceful stop — load
   * balancers and Consul's check send no new callers, while every call, on new connections too, is
   * still served (the platform's serve() does this in the lifecycle's "health" phase).
   */
  readonly health: Health;
  /**
   * The platform server's graceful close: stops accepting connections, asks keep-alive
   * (Connection: close) and HTTP/2 (graceful GOAWAY) clients to go, lets in-flight calls finish within
   * `graceMs` (default closeGraceMs), then aborts what is left; then stops the forwarders and the
   * rate-limit watch.
   */
  close(options?: { graceMs?: number }): Promise<void>;
  readonly services: readonly PublicService[];
  /** The rate limits in effect (from Consul KV). */
  rateLimits(): RateLimits;
}

const securityHeaders = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  "cross-origin-resource-policy": "same-site",
};

// Connect's own lists (every protocol's headers), plus what the edge's callers send and read.
const corsAllowMethods = cors.allowedMethods.join(", ");
const corsAllowHeaders = [...cors.allowedHeaders, "authorization", "if-none-match", CART_TOKEN_HEADER, "traceparent"].join(", ");
const corsExposeHeaders = [...cors.exposedHeaders, "etag", "retry-after", "x-request-id", "x-trace-id"].join(", ");

export function createEdge(options: EdgeOptions): Edge {
  const { logger } = options;
  const services = publicServices(options.surface ?? defaultSurface);
  const registry = createMetricsRegistry({ service: "edge" });
  const health = createHealth();
  const limiter = createRateLimiter();
  const corsOrigins = new Set(options.corsOrigins ?? []);
  if (corsOrigins.has("*")) throw new TypeError("createEdge: corsOrigins must list origins, never *");
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const maxAge = options.cacheMaxAgeSeconds ?? 30;
  const limits: ConsulKvWatch<RateLimits> = watchConsulKv({
    consulAddr: options.consulAddr,
    key: options.rateLimitsKey ?? "bazaar/edge/rate-limits",
    parse: rateLimitsSchema,
    logger,
    waitSeconds: 30,
  });
  const forwarder = createForwarder({
    services,
    consulAddr: options.consulAddr,
    upstreams: options.upstreams,
    verifier: options.verifier,
    limiter,
    perUserLimit: () => limits.current().perUser,
    defaultDeadlineMs: options.defaultDeadlineMs ?? 10_000,
    maxDeadlineMs: options.maxDeadlineMs ?? 30_000,
    logger,
  });
  // Per RPC path: its access level and whether it is read-only (cacheable GET).
  const access = new Map<string, { access: string; readOnly: boolean }>();
  for (const { service, methods } of services) {
    for (const { method, access: level } of methods.values()) {
      access.set(`/${service.typeName}/${method.name}`, { access: level, readOnly: method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS });
    }
  }
  // Public read-only answers, kept for their max-age (as a CDN would); caller-dependent ones never.
  const responseCache = createResponseCache({ ttlMs: maxAge * 1000 });
  const openapi = JSON.stringify(generateOpenApi(services, { title: "Bazaar", version: "1.0.0" }));
  const documents: Record<string, HttpDocument> = {
    "/openapi.json": () => ({ contentType: "application/json", body: openapi, cacheControl: "public, max-age=300" }),
    "/docs": () => ({ contentType: "text/html; charset=utf-8", body: docsHtml, cacheControl: "public, max-age=300" }),
    "/docs.js": () => ({ contentType: "text/javascript; charset=utf-8", body: docsScript, cacheControl: "public, max-age=300" }),
  };
  if (!options.pages) documents["/"] = () => ({ contentType: "text/html; charset=utf-8", body: docsHtml, cacheControl: "public, max-age=300" });
  const pages = options.pages;

  const clientAddressOf = createClientAddress(options.trustedProxies);
  function clientAddress(request: NodeRequest): string {
    const forwarded = request.headers["x-forwarded-for"];
    return clientAddressOf(request.socket.remoteAddress, Array.isArray(forwarded) ? forwarded.join(",") : forwarded);
  }
  const addressOf = new WeakMap<NodeRequest, string>();

  // The edge's front: runs before the platform's plain-HTTP routes and RPCs; answers what it refuses
  // itself, else lets the server go on (next).
  // Every request gets the edge's SERVER span, continuing the caller's trace (W3C traceparent) or
  // starting one; whatever handles it (an RPC forwarded down the mesh, a page render) runs inside it, so
  // the access log line and every span down the mesh share its trace id.
  function front(request: NodeRequest, anyResponse: AnyNodeResponse, next: () => void): void | Promise<void> {
    const span = startRequestSpan(request, anyResponse, { record: !healthCheckPaths.has(pathOf(request)) });
    return span.run(() => traced(request, anyResponse as unknown as NodeResponse, next, span.traceId));
  }

  function traced(request: NodeRequest, response: NodeResponse, next: () => void, traceId: string): void | Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const path = pathOf(request);
    const address = clientAddress(request);
    addressOf.set(request, address);
    response.on("finish", () => {
      logger[healthCheckPaths.has(path) ? "debug" : "info"](
        {
          request_id: requestId,
          method: request.method,
          path,
          status: response.statusCode,
          grpc_status: response.getHeader("grpc-status"),
          client: address,
          protocol: isGrpcRequest(request) ? "grpc" : "http",
          ms: Math.round((performance.now() - started) * 10) / 10,
          trace_id: traceId,
        },
        "edge access",
      );
    });
    for (const [name, value] of Object.entries(securityHeaders)) response.setHeader(name, value);
    response.setHeader("x-request-id", requestId);
    response.setHeader("x-trace-id", traceId);

    const origin = request.headers.origin;
    if (origin) {
      if (corsOrigins.has(origin)) {
        response.setHeader("access-control-allow-origin", origin);
        response.setHeader("access-control-allow-credentials", "true");
        response.setHeader("access-control-expose-headers", corsExposeHeaders);
        response.setHeader("vary", "Origin");
      }
      if (request.method === "OPTIONS") {
        if (!corsOrigins.has(origin)) return sendError(request, response, Code.PermissionDenied, `origin ${origin} is not allowed`);
        response.writeHead(204, {
          "access-control-allow-methods": corsAllowMethods,
          "access-control-allow-headers": corsAllowHeaders,
          "access-control-max-age": "600",
        });
        response.end();
        return;
      }
    }

    const wait = limiter.take(`addr:${address}`, limits.current().perAddress);
    if (wait > 0) {
      return sendError(request, response, Code.ResourceExhausted, `too many requests from this address: retry in ${wait} s`, { headers: { "retry-after": String(wait) } });
    }
    const length = Number(request.headers["content-length"] ?? 0);
    if (length > maxBodyBytes) {
      request.resume();
      return sendError(request, response, Code.ResourceExhausted, `request body of ${length} bytes exceeds the limit of ${maxBodyBytes} bytes`, {
        status: 413,
        headers: { connection: "close" },
      });
    }
    if (length === 0 && request.method === "POST" && request.headers["content-length"] === undefined) answerOversizeWith413(request, response);

    if (request.method === "GET" || request.method === "HEAD") {
      if (path === "/.well-known/jwks.json" && options.jwksUrl) return proxyJwks(options.jwksUrl, request, response);
      const route = access.get(path);
      if (route?.readOnly && !isGrpcRequest(request)) {
        const callerDependent = route.access !== "public" || request.headers.authorization !== undefined || request.headers[CART_TOKEN_HEADER] !== undefined;
        if (callerDependent) {
          cacheGetResponse(request, response, { cacheControl: "private, no-store" });
        } else {
          const cacheControl = `public, max-age=${maxAge}`;
          const key = `${request.url}\n${request.headers["accept-encoding"] ?? ""}`;
          const hit = responseCache.get(key);
          if (hit) return sendCached(request, response, hit, cacheControl);
          cacheGetResponse(request, response, { cacheControl, store: (entry) => responseCache.set(key, entry) });
        }
      }
    } else if (request.method !== "POST") {
      return sendError(request, response, Code.Unimplemented, `method ${request.method} is not supported`, { status: 405, headers: { allow: "GET, POST" } });
    }
    next();
  }

  // A body sent without a declared length (chunked) is only found too large while Connect reads it,
  // and Connect answers resource_exhausted with its HTTP status, 429. Count what arrives (at push,
  // where HTTP/1 and HTTP/2 hand the body to the request stream: no listener, so the flow is untouched)
  // and answer 413, as for a declared length: a client must not retry it as if rate-limited.
  function answerOversizeWith413(request: NodeRequest, response: NodeResponse) {
    let received = 0;
    const push = request.push;
    request.push = function (this: NodeRequest, chunk: unknown, encoding?: BufferEncoding) {
      if (chunk) received += (chunk as Buffer).length;
      return push.call(this, chunk, encoding);
    };
    const writeHead = response.writeHead;
    response.writeHead = function (this: NodeResponse, status: number, ...rest: unknown[]) {
      return (writeHead as (...args: unknown[]) => NodeResponse).call(this, status === 429 && received > maxBodyBytes ? 413 : status, ...rest);
    } as NodeResponse["writeHead"];
  }

  async function proxyJwks(jwksUrl: string, request: NodeRequest, response: NodeResponse) {
    try {
      const upstream = await fetch(jwksUrl, { signal: AbortSignal.timeout(5000) });
      if (!upstream.ok) throw new Error(`identity answered ${upstream.status}`);
      response.writeHead(200, { "content-type": "application/json", "cache-control": upstream.headers.get("cache-control") ?? "public, max-age=60" });
      response.end(request.method === "HEAD" ? undefined : await upstream.text());
    } catch (error) {
      logger.warn({ err: error }, "edge: JWKS unavailable");
      sendError(request, response, Code.Unavailable, "the signing keys are unavailable right now");
    }
  }

  const server = createRpcServer({
    routes: (router) => forwarder.routes(router),
    // As every service: traced, counted, and anything unexpected logged with its trace id and answered
    // as a generic internal error. Upstreams' answers pass through unchanged (they are ConnectErrors).
    interceptors: [serverTracingInterceptor(), redMetricsInterceptor(registry), errorsInterceptor({ logger })],
    registry,
    health,
    logger,
    documents,
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    metricsPort: options.metricsPort ?? 0,
    readMaxBytes: maxBodyBytes,
    front,
    contextValues: (request) => createContextValues().set(clientAddressKey, addressOf.get(request) ?? clientAddress(request)),
    fallback: (request, response) => {
      // Pages answer their own failures (an error page); anything they did not catch is logged here.
      if (pages && (request.method === "GET" || request.method === "HEAD")) {
        pages(request, response as NodeResponse).catch((error: unknown) => {
          logger.error({ err: error }, "edge: page failed");
          if (!response.headersSent) sendError(request, response, Code.Internal, "the page failed");
        });
        return;
      }
      sendError(request, response, Code.NotFound, `no such method or path: ${request.method} ${pathOf(request)}`);
    },
  });

  let closing: Promise<void> | undefined;
  return {
    services,
    health,
    rateLimits: () => limits.current(),
    async listen() {
      await limits.ready;
      const { port, metricsPort } = await server.listen();
      logger.info({ port, metricsPort, services: services.map((s) => s.service.typeName) }, "edge listening");
      return { port, metricsPort };
    },
    close(closeOptions = {}) {
      closing ??= (async () => {
        await server.close({ graceMs: closeOptions.graceMs ?? options.closeGraceMs ?? 5000 });
        forwarder.close();
        await limits.stop();
      })();
      return closing;
    },
  };
}

function pathOf(request: NodeRequest): string {
  return (request.url ?? "/").split("?", 1)[0] ?? "/";
}
