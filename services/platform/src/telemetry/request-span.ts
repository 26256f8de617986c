// The span of one HTTP request, opened by a server's front (the edge's) before it knows whether the
// request is an RPC, a page or a health check: the front needs the trace id at once (access log,
// `x-trace-id`), and a page render has no RPC interceptor to open a span for it. An RPC handled inside
// it does not open a second SERVER span: serverTracingInterceptor names and annotates this one.
import type { IncomingHttpHeaders } from "node:http";
import { randomUUID } from "node:crypto";
import {
  context,
  createContextKey,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from "@opentelemetry/api";
import { suppressTracing } from "@opentelemetry/core";
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_URL_PATH } from "@opentelemetry/semantic-conventions";
import { traceIdOf } from "./traceparent.ts";

const REQUEST_SPAN = createContextKey("bazaar request span");

export interface RequestSpan {
  /** The request's trace id: its caller's (W3C `traceparent`) or a new one. */
  traceId: string;
  /** Runs `fn` (the rest of the request's handling) with the span active. */
  run<T>(fn: () => T): T;
}

export interface RequestSpanOptions {
  /** false: make no span (health checks every few seconds would bury the traces worth seeing); the request still gets a trace id. Default true. */
  record?: boolean;
}

/**
 * Opens the SERVER span of `request`, continuing the trace of its `traceparent` (else starting one,
 * sampled by the SDK's sampler), and ends it when `response` closes, with its HTTP status. The request's
 * `traceparent` header is rewritten to name this span, so whatever reads the header later (error
 * answers given before any RPC runs) sees this trace. Without a tracing SDK, ids are still made up, for
 * logs and error messages.
 */
export function startRequestSpan(
  request: { method?: string | undefined; url?: string | undefined; headers: IncomingHttpHeaders },
  response: { statusCode: number; once(event: "close", listener: () => void): unknown },
  options: RequestSpanOptions = {},
): RequestSpan {
  const extracted = propagation.extract(ROOT_CONTEXT, request.headers);
  const parent = options.record === false ? suppressTracing(extracted) : extracted;
  const method = request.method ?? "GET";
  const path = (request.url ?? "/").split("?", 1)[0]!;
  const span = trace.getTracer("@bazaar/platform").startSpan(
    method,
    { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_PATH]: path } },
    parent,
  );
  response.once("close", () => {
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.statusCode);
    if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  let active: Context = trace.setSpan(parent, span).setValue(REQUEST_SPAN, span);
  if (isSpanContextValid(span.spanContext())) {
    const carrier: Record<string, string> = {};
    propagation.inject(active, carrier);
    if (carrier.traceparent) request.headers.traceparent = carrier.traceparent;
  } else {
    // No SDK: a made-up context, so logs and error messages still carry a trace id (and pass it on).
    // From randomUUID's pooled entropy: randomBytes would make two getrandom calls per request.
    const traceId = traceIdOf(String(request.headers.traceparent ?? "")) ?? randomUUID().replaceAll("-", "");
    const spanId = randomUUID().replaceAll("-", "").slice(0, 16);
    request.headers.traceparent = `00-${traceId}-${spanId}-01`;
    active = trace.setSpanContext(parent, { traceId, spanId, traceFlags: 1, isRemote: true });
  }
  const traceId = trace.getSpanContext(active)!.traceId;
  return { traceId, run: (fn) => context.with(active, fn) };
}

/** The request span a front opened around the active context, if any (see serverTracingInterceptor). */
export function activeRequestSpan(): Span | undefined {
  return context.active().getValue(REQUEST_SPAN) as Span | undefined;
}
