import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo, Server as NetServer } from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { protocolOptions, refuseMalformedBinary } from "./protocol-options.ts";
import { Health as HealthService } from "@bazaar/contracts/grpc/health/v1/health_pb";
import { toConnectError } from "../errors-interceptor.ts";
import type { Logger } from "../logger.ts";
import type { Registry } from "../metrics.ts";
import { traceIdOf } from "../telemetry/traceparent.ts";
import { sendErrorResponse, type NodeServerRequest, type NodeServerResponse } from "./error-response.ts";
import { createFront } from "./front.ts";
import { createHealthService, type Health } from "./health.ts";
import { handleHttpRoute, type HttpDocument, type WebhookHandler } from "./http-routes.ts";
import { reflectionServices, registerReflection } from "./reflection.ts";

export interface RpcServerOptions {
  /** Registers the service's own RPCs. Health and reflection are added beside them. */
  routes: (router: ConnectRouter) => void;
  /**
   * Interceptors around the service's own RPCs (not around health and reflection, which must answer
   * Consul and grpcurl without credentials and stay out of the RPC metrics). Default: none.
   */
  interceptors?: Interceptor[];
  /** Served at GET /metrics. */
  registry: Registry;
  /**
   * Serve /metrics on a port of its own (plain HTTP, same host) instead of this one: for a server that
   * faces the internet, whose metrics are for Prometheus only (0: any free port; listen() says which).
   * Default: on this port.
   */
  metricsPort?: number;
  /** Extra GET-only paths (no dot in them), e.g. identity's "/.well-known/jwks.json". Default none. */
  documents?: Readonly<Record<string, HttpDocument>>;
  /**
   * POST-only paths (no dot in them) for callbacks from outside, e.g. a payment gateway's
   * "/webhooks/stripe": bodies above 1 MiB get 413, other methods 405. Default none.
   */
  webhooks?: Readonly<Record<string, WebhookHandler>>;
  /** Served as grpc.health.v1.Health and /readyz; every served service gets a SERVING status of its own. */
  health: Health;
  logger: Logger;
  /** Default "0.0.0.0". */
  host?: string;
  /** Default 0: any free port (listen() says which). */
  port?: number;
  /** Largest request message accepted (default 4 MiB, gRPC's usual limit); larger ones fail with resource_exhausted. */
  readMaxBytes?: number;
  /** Largest response message sent (default 16 MiB). */
  writeMaxBytes?: number;
  /** Concurrent calls per HTTP/2 connection (default 1000). */
  maxConcurrentStreams?: number;
  /** How long an idle HTTP/1.1 keep-alive connection stays open (default 65 000 ms, above common proxy idle timeouts). */
  keepAliveTimeoutMs?: number;
  /** Time allowed to send the request headers on HTTP/1.1 (default 30 000 ms); slow clients are cut off. */
  headersTimeoutMs?: number;
  /** A new connection that sends no complete first bytes (preface or request line) this long is dropped (default 10 000 ms). */
  firstBytesTimeoutMs?: number;
  /**
   * Runs first for every request (before /metrics, /healthz, /readyz, documents and RPCs): answers it
   * itself, or calls `next()` to let the server go on (an edge's CORS, limits, cache). What it throws
   * or rejects with is mapped like a handler's error: logged with the trace id (the request's
   * traceparent) and answered as `internal` in the caller's protocol. Default: none.
   */
  front?: RequestFront;
  /** Values for each call's handler context, from its request (e.g. what the front found out). Default none. */
  contextValues?: (request: NodeServerRequest) => ContextValues;
  /** Answers requests that are neither RPCs nor plain-HTTP paths. Default: connect-node's (404, no body). */
  fallback?: (request: NodeServerRequest, response: NodeServerResponse) => void;
}

/** See RpcServerOptions.front. */
export type RequestFront = (request: NodeServerRequest, response: NodeServerResponse, next: () => void) => void | Promise<void>;

export interface RpcServer {
  /** Starts accepting connections; resolves with the bound port. */
  listen(): Promise<{ port: number; metricsPort?: number }>;
  /**
   * Graceful stop: health NOT_SERVING, stop accepting connections, GOAWAY to HTTP/2 clients and
   * `Connection: close` to HTTP/1.1 ones, let in-flight calls finish within `graceMs` (default
   * 10 000), then abort the rest (their handlers' signals abort with `unavailable`) and destroy every
   * connection. Idempotent: later calls return the same promise.
   */
  close(options?: { graceMs?: number }): Promise<void>;
  /** Requests being handled right now (RPCs, streams included, and plain HTTP). */
  inFlight(): number;
  /** The services served, health and reflection included (known once created). */
  readonly services: readonly DescService[];
}

const MiB = 1024 * 1024;

/**
 * One port for everything a service serves: gRPC (h2c), gRPC-Web and Connect (JSON and binary, over
 * HTTP/1.1 and HTTP/2), grpc.health.v1, gRPC reflection (v1 and v1alpha), /metrics, /healthz, /readyz.
 */
export function createRpcServer(options: RpcServerOptions): RpcServer {
  const { health, registry, logger } = options;
  const host = options.host ?? "0.0.0.0";
  const port = options.port ?? 0;
  if (typeof options.routes !== "function") throw new TypeError("createRpcServer: routes must be a function (router) => void");
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`createRpcServer: port must be an integer in 0..65535 (got ${port})`);

  // Aborted when the grace period ends with calls still running: their handler signals abort.
  const shutdown = new AbortController();
  let services: DescService[] = [];
  const cutOff = createCutOffInterceptor(shutdown.signal);
  const infrastructure = { interceptors: [cutOff] };

  const readMaxBytes = options.readMaxBytes ?? 4 * MiB;
  const rpc = connectNodeAdapter({
    routes(router) {
      options.routes(router);
      const own = [...new Map(router.handlers.map((h) => [h.service.typeName, h.service])).values()];
      for (const service of own) if (health.status(service.typeName) === undefined) health.setStatus(service.typeName, "SERVING");
      router.service(HealthService, createHealthService(health), infrastructure);
      services = [...own, HealthService, ...reflectionServices];
      registerReflection(router, services, infrastructure);
      refuseMalformedBinary(router, { readMaxBytes });
    },
    // Innermost, so the service's own interceptors (metrics, tracing) see the unavailable it raises.
    interceptors: [...(options.interceptors ?? []), cutOff],
    readMaxBytes,
    ...protocolOptions,
    writeMaxBytes: options.writeMaxBytes ?? 16 * MiB,
    shutdownSignal: shutdown.signal,
    ...(options.contextValues ? { contextValues: options.contextValues } : {}),
    ...(options.fallback ? { fallback: options.fallback } : {}),
  });

  let active = 0;
  let closing: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  // Open streams per HTTP/2 session: an idle session is closed at once on shutdown (see goAway).
  const sessionStreams = new WeakMap<http2.Http2Session, number>();

  const handle = (request: NodeServerRequest, response: NodeServerResponse) => {
    active++;
    const session = "stream" in request ? request.stream.session : undefined;
    if (session) sessionStreams.set(session, (sessionStreams.get(session) ?? 0) + 1);
    response.once("close", () => {
      active--;
      if (session) sessionStreams.set(session, (sessionStreams.get(session) ?? 1) - 1);
      if (closing) {
        // A connection that just finished its last call closes now (HTTP/1.1 keep-alive, or an
        // HTTP/2 session that would otherwise wait for its PING answer, see goAway).
        if (session && !sessionStreams.get(session)) session.close();
        http1.closeIdleConnections();
        if (active === 0) drained?.();
      }
    });
    if (closing && request.httpVersionMajor === 1) response.setHeader("connection", "close");
    if (options.front) {
      const failed = (error: unknown) => {
        const path = (request.url ?? "").split("?", 1)[0];
        const traceId = traceIdOf(String(request.headers.traceparent ?? ""));
        sendErrorResponse(request, response, toConnectError(error, { logger, procedure: `${request.method} ${path}`, traceId }));
      };
      try {
        const running = options.front(request, response, () => route(request, response));
        if (running) running.catch(failed);
      } catch (error) {
        failed(error);
      }
      return;
    }
    route(request, response);
  };
  // The plain-HTTP routes, else the RPCs.
  const route = (request: NodeServerRequest, response: NodeServerResponse) => {
    if (handleHttpRoute(request, response, { registry, health, documents: options.documents, webhooks: options.webhooks, logger, metrics: options.metricsPort === undefined })) return;
    rpc(request, response);
  };

  const http1 = http.createServer(
    {
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 65_000,
      headersTimeout: options.headersTimeoutMs ?? 30_000,
      requestTimeout: 0, // streams may last; headersTimeout guards against slow clients
    },
    handle,
  );
  // Node arms headersTimeout and idle-connection tracking on 'listening'; this server never listens
  // itself (the front hands it connections), so arm them here.
  http1.emit("listening");

  const sessions = new Set<http2.ServerHttp2Session>();
  const http2Server = http2.createServer({ settings: { maxConcurrentStreams: options.maxConcurrentStreams ?? 1000 } }, handle);
  http2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (closing) goAway(session);
  });
  http2Server.on("sessionError", (error) => logger.debug({ err: error }, "HTTP/2 session error"));

  const front = createFront({ http1, http2: http2Server, sniffTimeoutMs: options.firstBytesTimeoutMs });
  front.server.on("error", (error) => logger.error({ err: error }, "rpc server socket error"));

  // Only /metrics (and nothing else) when metricsPort is set.
  const metricsServer =
    options.metricsPort === undefined
      ? undefined
      : http.createServer((request, response) => {
          if ((request.url ?? "").split("?", 1)[0] === "/metrics") handleHttpRoute(request, response, { registry, health, logger });
          else response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
        });

  const bind = (server: NetServer, at: number) =>
    new Promise<number>((resolve, reject) => {
      const fail = (error: NodeJS.ErrnoException) => {
        reject(new Error(`rpc server: cannot listen on ${host}:${at} (${error.code ?? error.message})`, { cause: error }));
      };
      server.once("error", fail);
      server.listen(at, host, () => {
        server.removeListener("error", fail);
        resolve((server.address() as AddressInfo).port);
      });
    });

  const metricsPortOf = () => (metricsServer?.listening ? { metricsPort: (metricsServer.address() as AddressInfo).port } : {});

  async function listen(): Promise<{ port: number; metricsPort?: number }> {
    if (closing) throw new Error("rpc server: listen() after close()");
    if (front.server.listening) return { port: (front.server.address() as AddressInfo).port, ...metricsPortOf() };
    const bound = await bind(front.server, port);
    if (metricsServer) await bind(metricsServer, options.metricsPort!);
    logger.info({ host, port: bound, ...metricsPortOf(), services: services.map((s) => s.typeName) }, "rpc server listening");
    return { port: bound, ...metricsPortOf() };
  }

  // Graceful GOAWAY as grpc-go does it: first a GOAWAY that still accepts every stream (so calls the
  // client sent before hearing of it are served, not refused), then, one PING round trip later when
  // nothing can be in flight towards us any more, the real one; the session ends after its last stream.
  // An idle session gets the real one at once: nghttp2 stops reading an idle session once it has sent
  // a GOAWAY, so the PING would never be answered.
  function goAway(session: http2.ServerHttp2Session) {
    if (session.closed || session.destroyed) return;
    if (!sessionStreams.get(session)) {
      session.close();
      return;
    }
    try {
      session.goaway(http2.constants.NGHTTP2_NO_ERROR, 2 ** 31 - 1);
    } catch {
      session.close();
      return;
    }
    const fallback = setTimeout(() => session.close(), 1000).unref();
    const pinged = session.ping(() => {
      clearTimeout(fallback);
      session.close();
    });
    if (!pinged) {
      clearTimeout(fallback);
      session.close();
    }
  }

  async function drain(graceMs: number): Promise<void> {
    const started = Date.now();
    health.shutdown();
    if (front.server.listening) front.server.close();
    for (const session of sessions) goAway(session);
    http1.closeIdleConnections();
    logger.info({ inFlight: active, graceMs }, "rpc server closing: not accepting, draining in-flight calls");
    const settled = (ms: number) =>
      active === 0
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), Math.max(0, ms));
            drained = () => {
              clearTimeout(timer);
              resolve(true);
            };
          });
    if (!(await settled(graceMs))) {
      logger.warn({ inFlight: active }, "rpc server: grace period over, aborting the calls still running");
      shutdown.abort(new ConnectError("the server is shutting down", Code.Unavailable));
      // Aborted handlers get a moment to send their error before the connections go.
      await settled(100);
    }
    // Sessions end by themselves once their last stream is done; give their final frames a moment.
    if (sessions.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...sessions].map((session) => new Promise((resolve) => session.once("close", resolve)))),
        new Promise((resolve) => (timer = setTimeout(resolve, Math.min(1000, Math.max(50, started + graceMs - Date.now()))))),
      ]);
      clearTimeout(timer);
    }
    for (const session of sessions) session.destroy();
    for (const socket of front.sockets) socket.destroy();
    http1.close(() => {}); // stops its connection-checking timer
    if (metricsServer?.listening) {
      metricsServer.close();
      metricsServer.closeAllConnections();
    }
    logger.info({ ms: Date.now() - started, abandoned: active }, "rpc server closed");
  }

  return {
    listen,
    close(closeOptions = {}) {
      const graceMs = closeOptions.graceMs ?? 10_000;
      closing ??= drain(graceMs);
      return closing;
    },
    inFlight: () => active,
    get services() {
      return services;
    },
  };
}

/**
 * Once `shutdown` aborts, a call whose handler has not answered fails at once with the abort reason
 * (unavailable), in its own protocol, instead of being cut off with the connection; a server stream
 * ends the same way at its next message.
 */
function createCutOffInterceptor(shutdown: AbortSignal): Interceptor {
  const aborted = <T>(work: Promise<T>): Promise<T> => {
    if (shutdown.aborted) return Promise.reject(shutdown.reason);
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      onAbort = () => reject(shutdown.reason);
      shutdown.addEventListener("abort", onAbort, { once: true });
    });
    return Promise.race([work, stop]).finally(() => shutdown.removeEventListener("abort", onAbort!));
  };
  return (next) => async (request) => {
    const response = await aborted(next(request));
    if (!response.stream) return response;
    const messages = response.message;
    return {
      ...response,
      message: (async function* () {
        const iterator = messages[Symbol.asyncIterator]();
        try {
          for (;;) {
            const result = await aborted(iterator.next());
            if (result.done) return;
            yield result.value;
          }
        } finally {
          void iterator.return?.();
        }
      })(),
    };
  };
}
