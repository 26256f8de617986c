// The edge: one port (gRPC, gRPC-Web, Connect JSON/binary over HTTP/1.1 and HTTP/2) in front of the
// public surface. A node-level front does what must happen before or around Connect — security
// headers, CORS, per-address rate limit, body size limit, access log, the plain-HTTP doors and one
// error shape for unknown paths — then hands RPCs to connect-node with the generic forwarders.
import { randomUUID } from "node:crypto";
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, createContextValues, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health as HealthService } from "@bazaar/contracts/grpc/health/v1/health_pb";
import {
  createFront,
  createHealth,
  createHealthService,
  createMetricsRegistry,
  protocolOptions,
  refuseMalformedBinary,
  reflectionServices,
  registerReflection,
  redMetricsInterceptor,
  serverTracingInterceptor,
  watchConsulKv,
  type ConsulKvWatch,
  type Logger,
  type TokenVerifier,
} from "@bazaar/platform";
// Not exported by @bazaar/platform's index yet (see the README): the one-port front, reflection and
// the grpc.health.v1 implementation the platform's own server uses.
import { docsHtml } from "./docs.ts";
import { clientAddressKey, createForwarder } from "./forward.ts";
import { cacheGetResponse, createResponseCache, sendCached } from "./http-cache.ts";
import { isGrpc, sendError, type AnyNodeResponse, type NodeRequest, type NodeResponse } from "./http-errors.ts";
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
  /** Consul name per service typeName (tests point at uniquely named services). Default: from the package. */
  upstreams?: Readonly<Record<string, string>>;
  /** Where /.well-known/jwks.json is proxied from (identity's). Default: not served. */
  jwksUrl?: string;
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
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
  /** Use the first x-forwarded-for hop as the client address. Default false (the socket's address). */
  trustProxy?: boolean;
  /** How long close() lets in-flight requests finish before cutting connections. Default 5 000 ms. */
  closeGraceMs?: number;
}

/** Paths probes and Consul's check call every few seconds: logged at debug, not info. */
const healthCheckPaths = new Set(["/healthz", "/readyz", "/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"]);

export interface Edge {
  listen(): Promise<{ port: number }>;
  /**
   * First step of a graceful stop: /readyz answers 503 and grpc.health NOT_SERVING (so load balancers
   * and Consul's check send no new callers), while every call, on new connections too, is still served.
   */
  drain(): void;
  /**
   * Stops accepting connections, asks keep-alive (Connection: close) and HTTP/2 (GOAWAY) clients to go,
   * lets in-flight calls finish within `graceMs` (default closeGraceMs), then cuts what is left.
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
  "content-security-policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  "cross-origin-resource-policy": "same-site",
};

const corsAllowHeaders = [
  "authorization",
  "content-type",
  "connect-protocol-version",
  "connect-timeout-ms",
  "grpc-timeout",
  "x-grpc-web",
  "x-user-agent",
  "if-none-match",
  "idempotency-key",
  "x-cart-token",
  "traceparent",
].join(", ");
const corsExposeHeaders = ["grpc-status", "grpc-message", "grpc-status-details-bin", "etag", "retry-after", "x-request-id", "x-trace-id"].join(", ");

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

  const rpc = connectNodeAdapter({
    routes(router: ConnectRouter) {
      forwarder.routes(router);
      router.service(HealthService, createHealthService(health));
      // Reflection describes exactly what is routed: the public services with their public methods.
      registerReflection(router, [...services.map((s) => s.service), HealthService, ...reflectionServices]);
      for (const { service } of services) health.setStatus(service.typeName, "SERVING");
      refuseMalformedBinary(router, { readMaxBytes: maxBodyBytes });
    },
    interceptors: [serverTracingInterceptor(), redMetricsInterceptor(registry)],
    readMaxBytes: maxBodyBytes,
    // As every service: unknown JSON fields refused by name, fast answer compression.
    ...protocolOptions,
    contextValues: (request) => createContextValues().set(clientAddressKey, addressOf.get(request) ?? clientAddress(request)),
    fallback: (request, response) => sendError(request, response as NodeResponse, Code.NotFound, `no such method or path: ${request.method} ${pathOf(request)}`),
  });

  function clientAddress(request: NodeRequest): string {
    if (options.trustProxy) {
      const forwarded = String(request.headers["x-forwarded-for"] ?? "").split(",")[0]?.trim();
      if (forwarded) return forwarded;
    }
    return request.socket.remoteAddress ?? "unknown";
  }
  const addressOf = new WeakMap<NodeRequest, string>();

  async function handle(request: NodeRequest, response: NodeResponse) {
    const started = performance.now();
    const requestId = randomUUID();
    // Every call gets a trace: the caller's (W3C traceparent) or a new one, which the tracing
    // interceptor continues, so the access log line and the spans down the mesh share its id.
    let traceId = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(String(request.headers.traceparent ?? ""))?.[1];
    if (!traceId) {
      // From randomUUID's pooled entropy: randomBytes would make two getrandom calls per request.
      traceId = randomUUID().replaceAll("-", "");
      request.headers.traceparent = `00-${traceId}-${randomUUID().replaceAll("-", "").slice(0, 16)}-01`;
    }
    const path = pathOf(request);
    const address = clientAddress(request);
    addressOf.set(request, address);
    response.on("finish", () => {
      if (closing) http1.closeIdleConnections();
      logger[healthCheckPaths.has(path) ? "debug" : "info"](
        {
          request_id: requestId,
          method: request.method,
          path,
          status: response.statusCode,
          grpc_status: response.getHeader("grpc-status"),
          client: address,
          protocol: isGrpc(request) ? "grpc" : "http",
          ms: Math.round((performance.now() - started) * 10) / 10,
          trace_id: traceId,
        },
        "edge access",
      );
    });
    for (const [name, value] of Object.entries(securityHeaders)) response.setHeader(name, value);
    if (closing && request.httpVersionMajor === 1) response.setHeader("connection", "close");
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
        if (!corsOrigins.has(origin)) return sendError(request, response, Code.PermissionDenied, `origin ${origin} is not allowed`, { status: 403 });
        response.writeHead(204, {
          "access-control-allow-methods": "GET, POST",
          "access-control-allow-headers": corsAllowHeaders,
          "access-control-max-age": "600",
        });
        return response.end();
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
      switch (path) {
        case "/healthz":
          return sendText(response, 200, "text/plain; charset=utf-8", "ok\n");
        case "/readyz":
          return health.status() === "SERVING"
            ? sendText(response, 200, "text/plain; charset=utf-8", "ready\n")
            : sendText(response, 503, "text/plain; charset=utf-8", "not ready\n");
        case "/metrics":
          return sendText(response, 200, registry.contentType, await registry.metrics());
        case "/openapi.json":
          return sendText(response, 200, "application/json", openapi, "public, max-age=300");
        case "/docs":
        case "/":
          return sendText(response, 200, "text/html; charset=utf-8", docsHtml, "public, max-age=300");
        case "/.well-known/jwks.json":
          if (options.jwksUrl) return proxyJwks(request, response);
      }
      const route = access.get(path);
      if (route?.readOnly && !isGrpc(request)) {
        const callerDependent = route.access !== "public" || request.headers.authorization !== undefined || request.headers["x-cart-token"] !== undefined;
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
    rpc(request, response);
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

  async function proxyJwks(request: NodeRequest, response: NodeResponse) {
    try {
      const upstream = await fetch(options.jwksUrl!, { signal: AbortSignal.timeout(5000) });
      if (!upstream.ok) throw new Error(`identity answered ${upstream.status}`);
      sendText(response, 200, "application/json", await upstream.text(), upstream.headers.get("cache-control") ?? "public, max-age=60");
    } catch (error) {
      logger.warn({ err: error }, "edge: JWKS unavailable");
      sendError(request, response, Code.Unavailable, "the signing keys are unavailable right now");
    }
  }

  const onRequest = (request: NodeRequest, anyResponse: AnyNodeResponse) => {
    const response = anyResponse as NodeResponse;
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, "edge: request failed");
      sendError(request, response, Code.Internal, "internal error");
    });
  };
  const http1 = http.createServer({ keepAliveTimeout: 65_000, headersTimeout: 30_000, requestTimeout: 0 }, onRequest);
  http1.emit("listening");
  const sessions = new Set<http2.ServerHttp2Session>();
  const http2Server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } }, onRequest);
  http2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const front = createFront({ http1, http2: http2Server });
  let closing = false;

  return {
    services,
    rateLimits: () => limits.current(),
    async listen() {
      await limits.ready;
      await new Promise<void>((resolve, reject) => {
        front.server.once("error", reject);
        front.server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
          front.server.removeListener("error", reject);
          resolve();
        });
      });
      const { port } = front.server.address() as AddressInfo;
      logger.info({ port, services: services.map((s) => s.service.typeName) }, "edge listening");
      return { port };
    },
    drain() {
      health.shutdown();
    },
    async close(closeOptions = {}) {
      closing = true;
      health.shutdown();
      // Stop accepting, let HTTP/2 sessions finish their streams, close idle keep-alive connections.
      const closed = new Promise<void>((resolve) => (front.server.listening ? front.server.close(() => resolve()) : resolve()));
      for (const session of sessions) session.close();
      http1.closeIdleConnections();
      const grace = setTimeout(() => {
        for (const socket of front.sockets) socket.destroy();
      }, closeOptions.graceMs ?? options.closeGraceMs ?? 5000);
      await closed;
      clearTimeout(grace);
      http1.close(() => {});
      forwarder.close();
      await limits.stop();
    },
  };
}

function pathOf(request: NodeRequest): string {
  return (request.url ?? "/").split("?", 1)[0] ?? "/";
}

function sendText(response: NodeResponse, status: number, contentType: string, body: string, cacheControl = "no-store") {
  response.writeHead(status, { "content-type": contentType, "cache-control": cacheControl });
  response.end(body);
}
