// One span per RPC on each side, linked through the W3C `traceparent` header. Node's http
// instrumentation does not see HTTP/2 Connect traffic, so these interceptors are the RPC tracing.
import type { Interceptor } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";
import {
  ATTR_ERROR_TYPE,
  ATTR_RPC_METHOD,
  ATTR_RPC_STATUS_CODE,
  ATTR_RPC_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from "@opentelemetry/semantic-conventions";
import { activeRequestSpan } from "./request-span.ts";
import { codeOf, grpcCodeName, observeStream, procedureOf } from "./rpc-outcome.ts";

const TRACER = "@bazaar/platform";

const getter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};
const setter: TextMapSetter<Headers> = { set: (headers, key, value) => headers.set(key, value) };

const serverOf = /^[a-z]+:\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?/i;

// Codes that mean the server failed (OpenTelemetry's gRPC conventions); the others are the caller's doing.
const SERVER_FAULTS = new Set([Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss]);

/**
 * A SERVER interceptor: continues the caller's trace from `traceparent` (or starts one), opens a SERVER
 * span named "package.Service/Method" with rpc.* attributes, keeps it active while the handler runs
 * (so logs, outgoing calls and events join the trace) and ends it with the status code. Put it first.
 * Inside a request span a front opened (startRequestSpan, the edge's), it names and annotates that span
 * instead: one SERVER span per request.
 */
export function serverTracingInterceptor(): Interceptor {
  return (next) => async (req) => {
    const procedure = procedureOf(req);
    const requestSpan = activeRequestSpan();
    if (requestSpan) return joinRequestSpan(requestSpan, procedure, req, next);
    const parent = propagation.extract(ROOT_CONTEXT, req.header, getter);
    const span = trace.getTracer(TRACER).startSpan(
      procedure,
      { kind: SpanKind.SERVER, attributes: { [ATTR_RPC_SYSTEM_NAME]: systemOf(req.header), [ATTR_RPC_METHOD]: procedure } },
      parent,
    );
    const active = trace.setSpan(parent, span);
    try {
      const res = await context.with(active, () => next(req));
      if (!res.stream) {
        end(span, "server");
        return res;
      }
      return { ...res, message: observeStream(res.message, (error) => end(span, "server", error), active) };
    } catch (error) {
      end(span, "server", error);
      throw error;
    }
  };
}

// The request span stays the front's to end (when the response closes); the RPC only names it.
async function joinRequestSpan(span: Span, procedure: string, req: Parameters<Parameters<Interceptor>[0]>[0], next: Parameters<Interceptor>[0]) {
  span.updateName(procedure);
  span.setAttributes({ [ATTR_RPC_SYSTEM_NAME]: systemOf(req.header), [ATTR_RPC_METHOD]: procedure });
  try {
    const res = await next(req);
    if (!res.stream) {
      recordOutcome(span, "server");
      return res;
    }
    return { ...res, message: observeStream(res.message, (error) => recordOutcome(span, "server", error)) };
  } catch (error) {
    recordOutcome(span, "server", error);
    throw error;
  }
}

/**
 * A CLIENT interceptor: opens a CLIENT span (child of whatever span is active: the handler's server span,
 * an event consumer's span…), sends it as `traceparent`, and ends it with the call's outcome.
 */
export function clientTracingInterceptor(): Interceptor {
  return (next) => async (req) => {
    const procedure = procedureOf(req);
    const attributes: Record<string, string | number> = { [ATTR_RPC_SYSTEM_NAME]: systemOf(req.header), [ATTR_RPC_METHOD]: procedure };
    // A regex, not new URL(): this runs on every call.
    const server = serverOf.exec(req.url);
    if (server) {
      attributes[ATTR_SERVER_ADDRESS] = server[1]!;
      if (server[2]) attributes[ATTR_SERVER_PORT] = Number(server[2]);
    }
    const span = trace.getTracer(TRACER).startSpan(procedure, { kind: SpanKind.CLIENT, attributes });
    const active = trace.setSpan(context.active(), span);
    propagation.inject(active, req.header, setter);
    try {
      const res = await context.with(active, () => next(req));
      if (!res.stream) {
        end(span, "client");
        return res;
      }
      return { ...res, message: observeStream(res.message, (error) => end(span, "client", error)) };
    } catch (error) {
      end(span, "client", error);
      throw error;
    }
  };
}

function end(span: Span, side: "server" | "client", error?: unknown): void {
  recordOutcome(span, side, error);
  span.end();
}

function recordOutcome(span: Span, side: "server" | "client", error?: unknown): void {
  const code = error === undefined ? undefined : codeOf(error);
  span.setAttribute(ATTR_RPC_STATUS_CODE, grpcCodeName(code));
  if (code !== undefined) {
    span.setAttribute(ATTR_ERROR_TYPE, grpcCodeName(code));
    // A client failed whatever the code; a server only when the fault is its own.
    if (side === "client" || SERVER_FAULTS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: grpcCodeName(code) });
  }
}

function systemOf(header: Headers): string {
  return header.get("content-type")?.startsWith("application/grpc") ? "grpc" : "connectrpc";
}
