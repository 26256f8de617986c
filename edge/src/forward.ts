// Generic forwarding: for every public method, a handler built from its descriptor that checks the
// caller's access, applies the per-user rate limit and the deadline bounds, and sends the call over
// gRPC to a healthy instance found through Consul (the platform's client transport). No method needs
// code of its own: adding an RPC to a public service is one line in surface.ts.
import type { DescMethod, DescMethodStreaming, DescMethodUnary, Message } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { ADMIN_ROLE, CART_TOKEN_HEADER, clientTracingInterceptor, createClientTransport, upstreamName, type ClientTransport, type Logger, type Principal, type TokenVerifier, type Upstreams } from "@bazaar/platform";
import type { PublicService } from "./public-services.ts";
import { usesRefreshCookie, withRefreshCookie } from "./refresh-cookie.ts";
import type { Access } from "./surface.ts";
import type { Limit, RateLimiter } from "./rate-limit.ts";

/** The client address the node-level front determined, for the upstream's x-forwarded-for. */
export const clientAddressKey = createContextKey<string>("unknown", { description: "edge client address" });

export interface ForwardOptions {
  services: readonly PublicService[];
  consulAddr: string;
  /** Consul names of the services forwarded to, by default name (the platform's upstreams: { catalog: "catalog-blue" }). */
  upstreams?: Upstreams;
  verifier: TokenVerifier;
  limiter: RateLimiter;
  perUserLimit: () => Limit;
  defaultDeadlineMs: number;
  maxDeadlineMs: number;
  logger: Logger;
}

export interface Forwarder {
  routes(router: ConnectRouter): void;
  close(): void;
}

// Not traceparent: the client tracing interceptor sends the edge's own span as the upstream's parent.
const forwardedRequestHeaders = ["authorization", "user-agent", "accept-language", CART_TOKEN_HEADER];

export function createForwarder(options: ForwardOptions): Forwarder {
  const transports: ClientTransport[] = [];

  async function authorize(access: Access, context: HandlerContext): Promise<Principal | undefined> {
    const header = context.requestHeader.get("authorization");
    if (!header) {
      if (access === "public" || access === "personal") return undefined;
      throw new ConnectError("sign in first: this method needs a bearer token", Code.Unauthenticated);
    }
    const token = /^Bearer ([^\s]+)$/i.exec(header)?.[1];
    if (!token) throw new ConnectError("the authorization header must be 'Bearer <token>'", Code.Unauthenticated);
    let principal: Principal;
    try {
      principal = await options.verifier.verify(token);
    } catch (error) {
      const code = error instanceof Error && error.name === "UnavailableError" ? Code.Unavailable : Code.Unauthenticated;
      throw new ConnectError(code === Code.Unavailable ? "cannot verify tokens right now" : "the bearer token is not valid", code, undefined, undefined, error);
    }
    // Service tokens are for calls inside the mesh; one arriving from the internet was leaked or stolen.
    if (principal.kind === "service") throw new ConnectError("service tokens are not accepted from outside the mesh", Code.PermissionDenied);
    if (access === "admin" && !principal.roles.includes(ADMIN_ROLE)) throw new ConnectError("this method needs the admin role", Code.PermissionDenied);
    return principal;
  }

  function prepare(context: HandlerContext, principal: Principal | undefined): { timeoutMs: number; header: Record<string, string> } {
    if (principal) {
      const wait = options.limiter.take(`user:${principal.subject}`, options.perUserLimit());
      if (wait > 0) {
        context.responseHeader.set("retry-after", String(wait));
        throw new ConnectError(`too many requests for this user: retry in ${wait} s`, Code.ResourceExhausted);
      }
    }
    const asked = context.timeoutMs();
    const timeoutMs = Math.min(asked !== undefined && asked > 0 ? asked : options.defaultDeadlineMs, options.maxDeadlineMs);
    // A plain record: the transport copies it into the request's Headers anyway, so building a Headers
    // here (which validates every name and value) would be done twice.
    const address = context.values.get(clientAddressKey);
    const header: Record<string, string> = { "x-forwarded-for": address, "x-real-ip": address };
    for (const name of forwardedRequestHeaders) {
      const value = context.requestHeader.get(name);
      if (value) header[name] = value;
    }
    return { timeoutMs, header };
  }

  return {
    routes(router) {
      for (const { service, original, methods } of options.services) {
        const transport = createClientTransport({
          consulAddr: options.consulAddr,
          serviceName: upstreamName(original, options.upstreams),
          interceptors: [clientTracingInterceptor()],
        });
        transports.push(transport);
        const implementation: Record<string, unknown> = {};
        for (const { method, access } of methods.values()) {
          let handler = handlerFor(method, access, transport);
          // Browsers keep identity's refresh token in an httpOnly cookie the edge sets (refresh-cookie.ts).
          if (handler && usesRefreshCookie(service.typeName, method.name)) handler = withRefreshCookie(method.name, handler as (request: never, context: HandlerContext) => Promise<Message>);
          if (handler) implementation[method.localName] = handler;
          else options.logger.warn({ method: `${service.typeName}/${method.name}` }, "edge: client and bidi streams are not forwarded");
        }
        router.service(service, implementation as Parameters<ConnectRouter["service"]>[1]);
      }
    },
    close() {
      for (const transport of transports) transport.close();
    },
  };

  function handlerFor(method: DescMethod, access: Access, transport: ClientTransport) {
    switch (method.methodKind) {
      case "unary":
        return async (request: never, context: HandlerContext) => {
          const principal = await authorize(access, context);
          const { timeoutMs, header } = prepare(context, principal);
          const response = await transport.unary(method as DescMethodUnary, context.signal, timeoutMs, header, request);
          return response.message;
        };
      case "server_streaming":
        return async function* (request: never, context: HandlerContext) {
          const principal = await authorize(access, context);
          const { timeoutMs, header } = prepare(context, principal);
          const response = await transport.stream(method as DescMethodStreaming, context.signal, timeoutMs, header, createAsyncIterable([request]));
          yield* response.message;
        };
      default:
        return undefined;
    }
  }
}
