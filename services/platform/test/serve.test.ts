import http2 from "node:http2";
import net from "node:net";
import test from "ava";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { Counter } from "prom-client";
import {
  EchoRequestSchema,
  EchoResponseSchema,
  TestService,
  type EchoRequest,
  type EchoResponse,
} from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { startServer } from "./fixtures/serve/start.ts";

test("gRPC over HTTP/2 (Connect's gRPC transport) reaches the service on the shared port", async (t) => {
  const { baseUrl } = await startServer(t);
  const client = createClient(TestService, createGrpcTransport({ baseUrl }));
  const response = await client.echo({ message: "over grpc" });
  t.is(response.message, "over grpc");
  t.is(response.instanceId, "instance-a");
});

test("an @grpc/grpc-js client calls the service on the same port, errors arriving as gRPC status codes", async (t) => {
  const { port } = await startServer(t);
  const method = (name: string) => ({
    path: `/bazaar.platformtest.v1.TestService/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (message: EchoRequest) => Buffer.from(toBinary(EchoRequestSchema, message)),
    requestDeserialize: (bytes: Buffer) => fromBinary(EchoRequestSchema, bytes),
    responseSerialize: (message: EchoResponse) => Buffer.from(toBinary(EchoResponseSchema, message)),
    responseDeserialize: (bytes: Buffer) => fromBinary(EchoResponseSchema, bytes),
  });
  type Unary = (request: EchoRequest, callback: (error: grpc.ServiceError | null, response?: EchoResponse) => void) => grpc.ClientUnaryCall;
  const Client = grpc.makeGenericClientConstructor({ Echo: method("Echo"), Fail: method("Fail") }, "TestService");
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<"Echo" | "Fail", Unary>;
  t.teardown(() => client.close());
  const call = (name: "Echo" | "Fail", request: EchoRequest) =>
    new Promise<EchoResponse>((resolve, reject) => {
      client[name](request, (error, response) => (error ? reject(error) : resolve(response!)));
    });
  const response = await call("Echo", create(EchoRequestSchema, { message: "over grpc-js" }));
  t.is(response.message, "over grpc-js");
  t.is(response.instanceId, "instance-a");
  // The small test service has no Fail handler: the router answers unimplemented.
  const error = await t.throwsAsync<grpc.ServiceError>(call("Fail", create(EchoRequestSchema)));
  t.is(error?.code, grpc.status.UNIMPLEMENTED);
});

test("gRPC-Web over HTTP/1.1 reaches the service on the same port", async (t) => {
  const { baseUrl } = await startServer(t);
  const client = createClient(TestService, createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }));
  const response = await client.echo({ message: "over grpc-web" });
  t.is(response.message, "over grpc-web");
});

test("Connect JSON over HTTP/1.1 works with plain fetch, read-only methods answer GET, and bad JSON is invalid_argument", async (t) => {
  const { baseUrl } = await startServer(t);
  const post = await fetch(`${baseUrl}/bazaar.platformtest.v1.TestService/Echo`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message: "over fetch" }),
  });
  t.is(post.status, 200);
  t.deepEqual(await post.json(), { message: "over fetch", instanceId: "instance-a" });

  const query = new URLSearchParams({ connect: "v1", encoding: "json", message: JSON.stringify({ message: "by GET" }) });
  const get = await fetch(`${baseUrl}/bazaar.platformtest.v1.TestService/Echo?${query}`);
  t.is(get.status, 200);
  t.is(((await get.json()) as { message: string }).message, "by GET");

  const bad = await fetch(`${baseUrl}/bazaar.platformtest.v1.TestService/Echo`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{not json",
  });
  t.is(bad.status, 400);
  t.is(((await bad.json()) as { code: string }).code, "invalid_argument");

  const misspelt = await fetch(`${baseUrl}/bazaar.platformtest.v1.TestService/Echo`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ mesage: "typo" }),
  });
  t.is(misspelt.status, 400);
  const refused = (await misspelt.json()) as { code: string; message: string };
  t.is(refused.code, "invalid_argument");
  t.regex(refused.message, /"mesage" is unknown/, "the unknown field is named");
});

test("answers are compressed when the client asks, gzip or brotli, and decode to the same message", async (t) => {
  const { baseUrl } = await startServer(t);
  const message = "compress me ".repeat(400); // above Connect's 1 KiB threshold
  for (const encoding of ["gzip", "br"]) {
    const response = await fetch(`${baseUrl}/bazaar.platformtest.v1.TestService/Echo`, {
      method: "POST",
      headers: { "content-type": "application/json", "accept-encoding": encoding },
      body: JSON.stringify({ message }),
    });
    t.is(response.headers.get("content-encoding"), encoding, "what crossed the wire");
    t.is(((await response.json()) as { message: string }).message, message, `${encoding} decodes to the answer`);
  }
});

test("Connect binary and JSON over HTTP/2 reach the service on the same port", async (t) => {
  const { baseUrl } = await startServer(t);
  for (const useBinaryFormat of [true, false]) {
    const client = createClient(TestService, createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat }));
    const response = await client.echo({ message: `h2 binary=${useBinaryFormat}` });
    t.is(response.message, `h2 binary=${useBinaryFormat}`);
  }
  // And Connect over HTTP/1.1 through the Connect transport, binary.
  const h1 = createClient(TestService, createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }));
  t.is((await h1.echo({ message: "h1 binary" })).message, "h1 binary");
});

test("a request message over readMaxBytes is refused with resource_exhausted", async (t) => {
  const { baseUrl } = await startServer(t, { server: { readMaxBytes: 1024 } });
  const client = createClient(TestService, createGrpcTransport({ baseUrl }));
  const error = await t.throwsAsync(client.echo({ message: "x".repeat(4096) }));
  t.is(ConnectError.from(error).code, Code.ResourceExhausted);
  // Small requests still pass on the same server.
  t.is((await client.echo({ message: "small" })).message, "small");
});

test("GET /metrics serves the registry's metrics as Prometheus text over HTTP/1.1 and HTTP/2", async (t) => {
  const { baseUrl, registry } = await startServer(t);
  new Counter({ name: "serve_test_marker_total", help: "marker", registers: [registry] }).inc(3);
  const response = await fetch(`${baseUrl}/metrics`);
  t.is(response.status, 200);
  t.regex(response.headers.get("content-type") ?? "", /^text\/plain/);
  const text = await response.text();
  t.regex(text, /serve_test_marker_total\{service="serve-test"\} 3/);
  t.regex(text, /process_cpu_user_seconds_total/);

  const session = http2.connect(baseUrl);
  t.teardown(() => session.close());
  const overH2 = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const stream = session.request({ ":path": "/metrics" });
    let body = "";
    let status = 0;
    stream.on("response", (headers) => (status = Number(headers[":status"])));
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => (body += chunk));
    stream.on("end", () => resolve({ status, body }));
    stream.on("error", reject);
  });
  t.is(overH2.status, 200);
  t.regex(overH2.body, /serve_test_marker_total/);
});

test("/healthz answers 200 while the process lives; /readyz follows readiness and shutdown and names failing and degraded checks", async (t) => {
  let databaseUp = false;
  let natsUp = true;
  const { baseUrl, health } = await startServer(t, { health: { checks: { database: () => databaseUp }, nonCritical: { nats: () => natsUp } } });
  await health.refresh();
  t.is((await fetch(`${baseUrl}/healthz`)).status, 200);
  const readyz = async () => {
    const response = await fetch(`${baseUrl}/readyz`);
    t.is(response.headers.get("content-type"), "application/json");
    return { status: response.status, body: (await response.json()) as unknown };
  };

  t.deepEqual(await readyz(), { status: 503, body: { status: "NOT_SERVING", failing: ["database"], degraded: [] } });

  databaseUp = true;
  await health.refresh();
  t.deepEqual(await readyz(), { status: 200, body: { status: "SERVING", failing: [], degraded: [] } });

  // A non-critical dependency away: still ready (200), and the body says what the service does without.
  natsUp = false;
  await health.refresh();
  t.deepEqual(await readyz(), { status: 200, body: { status: "SERVING", failing: [], degraded: ["nats"] } });
  databaseUp = false;
  await health.refresh();
  t.deepEqual(await readyz(), { status: 503, body: { status: "NOT_SERVING", failing: ["database"], degraded: ["nats"] } });

  health.shutdown();
  t.deepEqual(await readyz(), { status: 503, body: { status: "NOT_SERVING", failing: ["shutdown"], degraded: ["nats"] } });
  t.is((await fetch(`${baseUrl}/healthz`)).status, 200);
});

test("plain routes refuse other methods with 405; unknown paths get 404", async (t) => {
  const { baseUrl } = await startServer(t);
  const post = await fetch(`${baseUrl}/metrics`, { method: "POST" });
  t.is(post.status, 405);
  t.is(post.headers.get("allow"), "GET, HEAD");
  const head = await fetch(`${baseUrl}/healthz`, { method: "HEAD" });
  t.is(head.status, 200);
  t.is((await fetch(`${baseUrl}/nothing-here`)).status, 404);
});

test("a connection that sends nothing is dropped after firstBytesTimeoutMs while others are served", async (t) => {
  const { port, baseUrl } = await startServer(t, { server: { firstBytesTimeoutMs: 300 } });
  const silent = net.connect({ host: "127.0.0.1", port });
  t.teardown(() => silent.destroy());
  const closed = new Promise<boolean>((resolve) => silent.once("close", () => resolve(true)));
  await new Promise((resolve) => silent.once("connect", resolve));
  t.is((await fetch(`${baseUrl}/healthz`)).status, 200);
  const deadline = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000).unref());
  t.true(await Promise.race([closed, deadline]), "the silent connection was closed by the server");
});
