// A server's front (the edge's CORS, limits, cache) runs before the platform's routes; what it throws
// is mapped and logged like a handler's error. serve() gives any server the services' listen,
// registration and ordered drain.
import test from "ava";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { capturingLogger, eventually, grpcEnvelope, rawGrpcStatus, testEnv, uniqueName } from "../src/testing.ts";
import { createLifecycle } from "../src/lifecycle.ts";
import { createMetricsRegistry } from "../src/metrics.ts";
import { createHealth } from "../src/serve/health.ts";
import { sendErrorResponse } from "../src/serve/error-response.ts";
import { createRpcServer, type RequestFront } from "../src/serve/rpc-server.ts";
import { serve } from "../src/serve/serve.ts";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { silentLogger, startServer } from "./fixtures/serve/start.ts";
import { testRoutes } from "./fixtures/serve/test-service.ts";

const echo = "/bazaar.platformtest.v1.TestService/Echo";
const traceId = "ab".repeat(16);
const traceparent = `00-${traceId}-${"cd".repeat(8)}-01`;

test("a front runs before every route: it answers what it refuses in the caller's protocol and lets the rest through", async (t) => {
  const seen: string[] = [];
  const front: RequestFront = (request, response, next) => {
    seen.push(String(request.url));
    if (request.headers["x-refuse"]) return sendErrorResponse(request, response, new ConnectError("refused by the front", Code.PermissionDenied));
    next();
  };
  const { baseUrl } = await startServer(t, { server: { front } });

  const client = createClient(TestService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
  t.is((await client.echo({ message: "hi" })).message, "hi", "RPCs go through");
  t.is((await fetch(`${baseUrl}/healthz`)).status, 200, "plain-HTTP routes go through");
  t.deepEqual(seen, [echo, "/healthz"]);

  const refused = await fetch(`${baseUrl}${echo}`, { method: "POST", headers: { "content-type": "application/json", "x-refuse": "1" }, body: "{}" });
  t.is(refused.status, 403, "Connect's status for the code");
  t.deepEqual(await refused.json(), { code: "permission_denied", message: "refused by the front" });
  t.is(await rawGrpcStatus(baseUrl, echo, grpcEnvelope(new Uint8Array()), { "x-refuse": "1" }), String(Code.PermissionDenied));
});

test("a front that throws or rejects is answered internal with the trace id, never its message, and logged with the trace id", async (t) => {
  const { logger, lines } = capturingLogger("front");
  const front: RequestFront = (request, _response, next) => {
    if (request.headers["x-throw"]) throw new Error("secret detail (thrown)");
    if (request.headers["x-reject"]) return Promise.reject(new Error("secret detail (rejected)"));
    next();
  };
  const { baseUrl } = await startServer(t, { server: { front, logger } });

  for (const header of ["x-throw", "x-reject"]) {
    const answer = await fetch(`${baseUrl}${echo}`, { method: "POST", headers: { "content-type": "application/json", traceparent, [header]: "1" }, body: "{}" });
    t.is(answer.status, 500);
    const body = (await answer.json()) as { code: string; message: string };
    t.is(body.code, "internal");
    t.is(body.message, `internal error (trace id ${traceId})`, `${header}: the trace id, nothing of the error`);
  }
  t.is(await rawGrpcStatus(baseUrl, echo, grpcEnvelope(new Uint8Array()), { "x-throw": "1", traceparent }), String(Code.Internal), "gRPC callers get grpc-status");
  const logged = lines.filter((line) => line.msg === "unexpected error");
  t.is(logged.length, 3, "each failure logged once");
  for (const line of logged) {
    t.is(line.trace_id, traceId);
    t.regex(String((line.err as { message?: string }).message), /secret detail/, "the full story goes to the log");
  }
});

test("serve(): listens, registers in Consul, and the lifecycle turns it not ready, deregisters, keeps serving for settleMs, then drains", async (t) => {
  const consulAddr = testEnv.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500";
  const logger = silentLogger();
  const health = createHealth({ logger });
  const server = createRpcServer({ routes: testRoutes("instance-a"), registry: createMetricsRegistry({ service: "serve-test" }), health, logger, host: "127.0.0.1" });
  const lifecycle = createLifecycle({ logger, graceMs: 10_000, signals: [] });
  t.teardown(() => lifecycle.shutdown("teardown"));
  const name = uniqueName("serve-front");
  const serving = await serve({ server, lifecycle, health, logger, config: { SERVICE_HOST: "127.0.0.1", ADVERTISE_ADDRESS: undefined, CONSUL_HTTP_ADDR: consulAddr } });
  t.is(serving.address, `127.0.0.1:${serving.port}`);
  const id = `${name}-1`;
  await serving.register({ name, id, tags: ["version=1"], meta: { instance: "one" }, settleMs: 3000 });
  const listed = async () => ((await (await fetch(`http://${consulAddr}/v1/health/service/${name}`)).json()) as Array<{ Service: { ID: string; Meta: Record<string, string> } }>);
  const [entry] = await listed();
  t.is(entry?.Service.ID, id);
  t.deepEqual(entry?.Service.Meta, { instance: "one" });

  const stopping = lifecycle.shutdown("test");
  t.is(health.status(), "NOT_SERVING", "not ready first");
  await eventually("the instance to leave Consul", async () => (await listed()).length === 0);
  // Out of Consul, still settling: a new connection is still answered.
  const client = createClient(TestService, createConnectTransport({ baseUrl: `http://127.0.0.1:${serving.port}`, httpVersion: "1.1" }));
  t.is((await client.echo({ message: "late caller" })).message, "late caller");
  t.true(await stopping);
  t.is(server.inFlight(), 0);
  const refused = await fetch(`http://127.0.0.1:${serving.port}/healthz`).then(
    () => "answered",
    () => "refused",
  );
  t.is(refused, "refused", "drained and closed after the settle time");
});
