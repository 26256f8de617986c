// Tracing and RED metrics through real servers in one process: a Connect (HTTP/1.1) server A whose
// Relay calls a gRPC (h2c) server B, with spans collected by an in-memory exporter.
import test, { type ExecutionContext } from "ava";
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { Health, HealthCheckResponse_ServingStatus } from "@bazaar/contracts/grpc/health/v1/health_pb";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { NotFoundError } from "../src/errors.ts";
import { errorsInterceptor } from "../src/errors-interceptor.ts";
import { createLogger } from "../src/logger.ts";
import { createMetricsRegistry } from "../src/metrics.ts";
import { redMetricsInterceptor } from "../src/telemetry/red-metrics.ts";
import { startTelemetry } from "../src/telemetry/start-telemetry.ts";
import { clientTracingInterceptor, serverTracingInterceptor } from "../src/telemetry/tracing-interceptors.ts";
import { startRequestSpan } from "../src/telemetry/request-span.ts";

const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({ serviceName: "telemetry-test", serviceVersion: "0.0.1", exporter });
test.after.always(() => telemetry.shutdown());

const logLines: Record<string, unknown>[] = [];
const logger = createLogger({ service: "telemetry-test", level: "debug", destination: { write: (s: string) => void logLines.push(JSON.parse(s)) } });

const RELAY = "bazaar.platformtest.v1.TestService/Relay";
const WAIT = "bazaar.platformtest.v1.TestService/Wait";

function activeTraceId(): string {
  return trace.getActiveSpan()?.spanContext().traceId ?? "";
}

async function listen(t: ExecutionContext, server: http.Server | http2.Http2Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        if (server instanceof http.Server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function mesh(t: ExecutionContext) {
  const registry = createMetricsRegistry({ service: "telemetry-test" });
  const serverInterceptors = () => [serverTracingInterceptor(), redMetricsInterceptor(registry), errorsInterceptor({ logger })];
  const clientInterceptors: Interceptor[] = [clientTracingInterceptor(), redMetricsInterceptor(registry, { side: "client" })];

  const bRoutes = (router: ConnectRouter) =>
    router.service(TestService, {
      wait: () => {
        logger.info("waiting in B");
        return { traceId: activeTraceId(), instanceId: "b" };
      },
    });
  const bPort = await listen(t, http2.createServer(connectNodeAdapter({ routes: bRoutes, interceptors: serverInterceptors() })));
  const toB = createClient(TestService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${bPort}`, interceptors: clientInterceptors }));

  const seenInStream: string[] = [];
  const aRoutes = (router: ConnectRouter) => {
    router.service(Health, {
      async *watch() {
        for (let i = 0; i < 3; i++) {
          await new Promise((resolve) => setImmediate(resolve));
          seenInStream.push(activeTraceId());
          yield { status: HealthCheckResponse_ServingStatus.SERVING };
        }
      },
    });
    router.service(TestService, {
      relay: async () => {
        const lastHop = await toB.wait({ durationMs: 0n });
        return { lastHop, traceId: activeTraceId() };
      },
      echo: (req) => ({ message: req.message }),
      fail: (req) => {
        if (req.kind === "not_found") throw new NotFoundError("no such thing");
        throw new TypeError("cannot read properties of undefined (reading 'price')");
      },
    });
  };
  const aPort = await listen(t, http.createServer(connectNodeAdapter({ routes: aRoutes, interceptors: serverInterceptors() })));
  const aUrl = `http://127.0.0.1:${aPort}`;
  const toA = createClient(TestService, createConnectTransport({ baseUrl: aUrl, httpVersion: "1.1", interceptors: clientInterceptors }));
  const toABare = createClient(TestService, createConnectTransport({ baseUrl: aUrl, httpVersion: "1.1" }));
  const healthOfA = createClient(Health, createConnectTransport({ baseUrl: aUrl, httpVersion: "1.1", interceptors: clientInterceptors }));
  // A front like the edge's: every request in its own span, the RPCs behind it handled inside that span.
  const rpcA = connectNodeAdapter({ routes: aRoutes, interceptors: serverInterceptors() });
  const frontPort = await listen(
    t,
    http.createServer((request, response) => {
      const span = startRequestSpan(request, response, { record: request.url !== "/quiet" });
      response.setHeader("x-trace-id", span.traceId);
      span.run(() => (request.url === "/page" || request.url === "/quiet" ? response.end("a page") : rpcA(request, response)));
    }),
  );
  const frontUrl = `http://127.0.0.1:${frontPort}`;
  const viaFront = createClient(TestService, createConnectTransport({ baseUrl: frontUrl, httpVersion: "1.1" }));
  return { registry, toA, toABare, healthOfA, seenInStream, viaFront, frontUrl };
}

async function spansOf(traceId: string): Promise<ReadableSpan[]> {
  await telemetry.forceFlush();
  return exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
}

test("startTelemetry is idempotent", (t) => {
  t.is(startTelemetry({ serviceName: "another" }), telemetry);
});

test("a client→server→client→server chain shares one trace, each span the child of the one before", async (t) => {
  const { toA } = await mesh(t);
  const response = await toA.relay({ hops: 1n });
  const traceId = response.traceId;
  t.regex(traceId, /^[0-9a-f]{32}$/);
  t.is(response.lastHop?.traceId, traceId, "B's handler ran in the same trace");

  const spans = await spansOf(traceId);
  const find = (name: string, kind: SpanKind) => spans.find((s) => s.name === name && s.kind === kind);
  const clientA = find(RELAY, SpanKind.CLIENT);
  const serverA = find(RELAY, SpanKind.SERVER);
  const clientB = find(WAIT, SpanKind.CLIENT);
  const serverB = find(WAIT, SpanKind.SERVER);
  t.is(spans.length, 4);
  t.truthy(clientA && serverA && clientB && serverB);
  t.is(clientA!.parentSpanContext, undefined, "the first client call starts the trace");
  t.is(serverA!.parentSpanContext?.spanId, clientA!.spanContext().spanId);
  t.is(clientB!.parentSpanContext?.spanId, serverA!.spanContext().spanId);
  t.is(serverB!.parentSpanContext?.spanId, clientB!.spanContext().spanId);
  t.true(serverA!.parentSpanContext?.isRemote);

  t.like(serverA!.attributes, { "rpc.system.name": "connectrpc", "rpc.method": RELAY, "rpc.status_code": "OK" });
  t.like(serverB!.attributes, { "rpc.system.name": "grpc", "rpc.method": WAIT, "rpc.status_code": "OK" });
  t.like(clientB!.attributes, { "server.address": "127.0.0.1", "rpc.status_code": "OK" });
  t.is(serverA!.resource.attributes["service.name"], "telemetry-test");
  t.is(serverA!.resource.attributes["service.version"], "0.0.1");

  const logged = logLines.find((line) => line.msg === "waiting in B" && line.trace_id === traceId);
  t.is(logged?.span_id, serverB!.spanContext().spanId, "logs inside a handler carry its span");
});

test("a server continues the trace named by an incoming traceparent header", async (t) => {
  const { toABare } = await mesh(t);
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const parentSpanId = "00f067aa0ba902b7";
  const response = await toABare.relay({}, { headers: { traceparent: `00-${traceId}-${parentSpanId}-01` } });
  t.is(response.traceId, traceId);
  const serverA = (await spansOf(traceId)).find((s) => s.name === RELAY && s.kind === SpanKind.SERVER);
  t.is(serverA?.parentSpanContext?.spanId, parentSpanId);
});

test("behind a front's request span an RPC is that one SERVER span (named by the RPC), its outgoing calls its children; the caller's trace continues", async (t) => {
  const { viaFront } = await mesh(t);
  const traceId = "0af7651916cd43dd8448eb211c80319c";
  const callerSpanId = "b7ad6b7169203331";
  const response = await viaFront.relay({}, { headers: { traceparent: `00-${traceId}-${callerSpanId}-01` } });
  t.is(response.traceId, traceId);
  const spans = await spansOf(traceId);
  const servers = spans.filter((s) => s.name === RELAY && s.kind === SpanKind.SERVER);
  t.is(servers.length, 1, "one SERVER span for the request, not one from the front and one from the interceptor");
  const server = servers[0]!;
  t.is(server.parentSpanContext?.spanId, callerSpanId);
  t.like(server.attributes, { "rpc.method": RELAY, "rpc.status_code": "OK", "http.request.method": "POST", "http.response.status_code": 200 });
  const clientB = spans.find((s) => s.name === WAIT && s.kind === SpanKind.CLIENT);
  t.is(clientB?.parentSpanContext?.spanId, server.spanContext().spanId);
  const serverB = spans.find((s) => s.name === WAIT && s.kind === SpanKind.SERVER);
  t.is(serverB?.parentSpanContext?.spanId, clientB?.spanContext().spanId);
});

test("a request the front answers without an RPC (a page) is a SERVER span of its own, the root of a new trace", async (t) => {
  const { frontUrl } = await mesh(t);
  const response = await fetch(`${frontUrl}/page`);
  t.is(await response.text(), "a page");
  const traceId = response.headers.get("x-trace-id") ?? "";
  t.regex(traceId, /^[0-9a-f]{32}$/);
  const spans = await spansOf(traceId);
  t.deepEqual(
    spans.map((s) => [s.name, s.kind, s.parentSpanContext?.spanId, s.attributes["url.path"], s.attributes["http.response.status_code"]]),
    [["GET", SpanKind.SERVER, undefined, "/page", 200]],
  );
});

test("a request the front does not record (a health check) makes no span, yet has a trace id", async (t) => {
  const { frontUrl } = await mesh(t);
  const response = await fetch(`${frontUrl}/quiet`);
  t.is(await response.text(), "a page");
  const traceId = response.headers.get("x-trace-id") ?? "";
  t.regex(traceId, /^[0-9a-f]{32}$/);
  t.deepEqual(await spansOf(traceId), []);
});

test("span status follows who is at fault: not_found is the caller's, internal the server's", async (t) => {
  const { toA } = await mesh(t);
  const outcome = async (kind: string) => {
    // Called under a span of the test's own, so this call's spans are found by its trace id.
    const parent = trace.getTracer("test").startSpan("test");
    const traceId = parent.spanContext().traceId;
    const error = await context.with(trace.setSpan(context.active(), parent), () => t.throwsAsync(toA.fail({ kind }), { instanceOf: ConnectError }));
    parent.end();
    const spans = (await spansOf(traceId)).filter((s) => s.name === "bazaar.platformtest.v1.TestService/Fail");
    return { error: error!, server: spans.find((s) => s.kind === SpanKind.SERVER)!, client: spans.find((s) => s.kind === SpanKind.CLIENT)! };
  };
  const notFound = await outcome("not_found");
  t.is(notFound.error.code, Code.NotFound);
  t.like(notFound.server.attributes, { "rpc.status_code": "NOT_FOUND", "error.type": "NOT_FOUND" });
  t.is(notFound.server.status.code, SpanStatusCode.UNSET);
  t.is(notFound.client.status.code, SpanStatusCode.ERROR);

  const crash = await outcome("crash");
  t.like(crash.server.attributes, { "rpc.status_code": "INTERNAL" });
  t.is(crash.server.status.code, SpanStatusCode.ERROR);
  t.true(crash.server.events.some((e) => e.name === "exception"), "the exception is recorded on the server span");
});

test("an internal error names its trace id to the client, and the log line with the full error carries the same id", async (t) => {
  const { toA } = await mesh(t);
  const error = await t.throwsAsync(toA.fail({ kind: "crash" }), { instanceOf: ConnectError });
  const match = /^internal error \(trace id ([0-9a-f]{32})\)$/.exec(error!.rawMessage);
  t.truthy(match, error!.rawMessage);
  t.false(error!.rawMessage.includes("price"));
  const logged = logLines.find((line) => line.msg === "unexpected error" && line.trace_id === match![1]);
  t.regex(String((logged?.err as { message?: string })?.message), /reading 'price'/);
});

test("RED metrics count calls per method and code, with latency histograms, on both sides", async (t) => {
  const { registry, toA } = await mesh(t);
  for (let i = 0; i < 3; i++) await toA.echo({ message: `m${i}` });
  await t.throwsAsync(toA.fail({ kind: "not_found" }));
  await toA.relay({});

  const text = await registry.metrics();
  // The value of the sample of `metric` whose labels include `labels`.
  const sample = (metric: string, labels: Record<string, string>) => {
    for (const line of text.split("\n")) {
      const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
      if (!match || match[1] !== metric) continue;
      const has = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      if (Object.entries(labels).every(([k, v]) => has[k] === v)) return Number(match[3]);
    }
    return undefined;
  };
  const echo = "bazaar.platformtest.v1.TestService/Echo";
  const fail = "bazaar.platformtest.v1.TestService/Fail";
  t.is(sample("rpc_server_requests_total", { method: echo, code: "ok" }), 3);
  t.is(sample("rpc_server_requests_total", { method: fail, code: "not_found" }), 1);
  t.is(sample("rpc_server_requests_total", { method: WAIT, code: "ok" }), 1, "B's server side");
  t.is(sample("rpc_client_requests_total", { method: echo, code: "ok" }), 3);
  t.is(sample("rpc_client_requests_total", { method: fail, code: "not_found" }), 1);
  t.is(sample("rpc_client_requests_total", { method: WAIT, code: "ok" }), 1, "A's call to B");
  t.is(sample("rpc_server_request_duration_seconds_count", { method: echo, code: "ok" }), 3);
  t.is(sample("rpc_server_request_duration_seconds_bucket", { method: echo, code: "ok", le: "+Inf" }), 3);
  t.not(sample("rpc_server_request_duration_seconds_bucket", { method: echo, code: "ok", le: "0.005" }), undefined, "ms-scale buckets");
  t.is(sample("rpc_server_requests_in_flight", { method: echo }), 0);
  t.true(text.includes('service="telemetry-test"'), "the registry's service label");
});

test("a streaming call is one span, active while the handler produces messages and ended with the stream", async (t) => {
  const { healthOfA, seenInStream, registry } = await mesh(t);
  let received = 0;
  for await (const _ of healthOfA.watch({ service: "" })) received++;
  t.is(received, 3);
  t.is(seenInStream.length, 3);
  const traceId = seenInStream[0]!;
  t.regex(traceId, /^[0-9a-f]{32}$/);
  t.deepEqual(new Set(seenInStream), new Set([traceId]));
  const spans = await spansOf(traceId);
  const server = spans.find((s) => s.kind === SpanKind.SERVER);
  const client = spans.find((s) => s.kind === SpanKind.CLIENT);
  t.is(server?.name, "grpc.health.v1.Health/Watch");
  t.is(server?.attributes["rpc.status_code"], "OK");
  t.is(server?.parentSpanContext?.spanId, client?.spanContext().spanId);
  const text = await registry.metrics();
  t.true(text.includes('rpc_server_requests_total{method="grpc.health.v1.Health/Watch",code="ok",service="telemetry-test"} 1'));
});
