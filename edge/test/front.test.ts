// What the edge's node-level front answers by itself, with no service behind it: body limits whether
// the length is declared or not, and which requests its access log keeps at info.
import http from "node:http";
import http2 from "node:http2";
import test from "ava";
import { createTokenVerifier, type Principal } from "@bazaar/platform";
import { capturingLogger, eventually, testEnv, uniqueName } from "@bazaar/platform/testing";
import { createEdge } from "../src/index.ts";

const consulAddr = testEnv.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500";
const search = "/bazaar.catalog.v1.CatalogService/SearchProducts";

async function startEdge(t: { teardown(fn: () => Promise<void>): void }) {
  const { logger, lines } = capturingLogger("edge");
  const edge = createEdge({
    logger,
    verifier: createTokenVerifier({ jwks: { keys: [] }, issuer: "bazaar-identity", audience: "bazaar" }),
    consulAddr,
    // Nobody serves these: every request here is answered before forwarding.
    upstreams: { catalog: uniqueName("catalog") },
    rateLimitsKey: `bazaar/test/${uniqueName("edge-front")}`,
    maxBodyBytes: 1024,
  });
  const { port } = await edge.listen();
  t.teardown(() => edge.close());
  return { port, lines };
}

/** POSTs `body` in pieces with Transfer-Encoding: chunked (no content-length), as a streaming client does. */
function postChunked(port: number, path: string, pieces: string[]): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path, method: "POST", headers: { "content-type": "application/json" } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
    });
    request.on("error", reject);
    for (const piece of pieces) request.write(piece);
    request.end();
  });
}

test("a body over the limit gets 413 resource_exhausted whether its length is declared or it comes chunked", async (t) => {
  const { port } = await startEdge(t);
  const big = JSON.stringify({ query: "x".repeat(4096) });

  const declared = await fetch(`http://127.0.0.1:${port}${search}`, { method: "POST", headers: { "content-type": "application/json" }, body: big });
  t.is(declared.status, 413);
  t.is(((await declared.json()) as { code: string }).code, "resource_exhausted");

  const chunked = await postChunked(port, search, [big.slice(0, 1000), big.slice(1000, 3000), big.slice(3000)]);
  t.is(chunked.status, 413, chunked.body);
  const answer = JSON.parse(chunked.body) as { code: string; message: string };
  t.is(answer.code, "resource_exhausted");
  t.regex(answer.message, /1024/, "the message names the limit");
});

test("a chunked body within the limit is read whole and reaches the method", async (t) => {
  const { port } = await startEdge(t);
  const small = JSON.stringify({ query: "lamp" });
  // No catalog behind this edge: getting as far as forwarding (unavailable, 503) shows the body was read.
  const answer = await postChunked(port, search, [small.slice(0, 5), small.slice(5)]);
  t.is(answer.status, 503, answer.body);
  t.is((JSON.parse(answer.body) as { code: string }).code, "unavailable");
});

test("health checks (Consul's every few seconds, probes) are logged at debug, calls at info", async (t) => {
  const { port, lines } = await startEdge(t);
  const base = `http://127.0.0.1:${port}`;
  await fetch(`${base}/grpc.health.v1.Health/Check`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  await fetch(`${base}/healthz`);
  await fetch(`${base}/readyz`);
  await fetch(`${base}/openapi.json`);
  const access = await eventually("four access lines", () => {
    const found = lines.filter((line) => line.msg === "edge access");
    return found.length >= 4 ? found : undefined;
  });
  const levelOf = (path: string) => access.find((line) => line.path === path)?.level;
  t.is(levelOf("/grpc.health.v1.Health/Check"), "debug");
  t.is(levelOf("/healthz"), "debug");
  t.is(levelOf("/readyz"), "debug");
  t.is(levelOf("/openapi.json"), "info");
});

test("a gRPC health check over HTTP/2 with no content-length (as Consul sends it) answers SERVING", async (t) => {
  const { port } = await startEdge(t);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  t.teardown(() => session.close());
  const answer = await new Promise<{ status: string | undefined; body: Buffer }>((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Check", "content-type": "application/grpc", te: "trailers" });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    stream.on("response", (headers) => (status ??= headers["grpc-status"] as string | undefined));
    stream.on("trailers", (trailers) => (status = trailers["grpc-status"] as string | undefined));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve({ status, body: Buffer.concat(chunks) }));
    stream.on("error", reject);
    stream.end(Buffer.from([0, 0, 0, 0, 0])); // an empty HealthCheckRequest
  });
  t.is(answer.status, "0");
  t.deepEqual([...answer.body], [0, 0, 0, 0, 2, 8, 1], "HealthCheckResponse { status: SERVING }");
});

test("an unexpected exception while handling a call is answered internal with its trace id, not its message, and logged with the trace id", async (t) => {
  const { logger, lines } = capturingLogger("edge");
  // A verifier that hands back a malformed principal (no roles): checking the admin role then throws a
  // TypeError in the edge's own code, the kind of bug the platform must report without leaking it.
  const broken = { verify: async (token: string) => ({ subject: "someone", kind: "user", token }) as unknown as Principal };
  const edge = createEdge({
    logger,
    verifier: broken,
    consulAddr,
    upstreams: { catalog: uniqueName("catalog") },
    rateLimitsKey: `bazaar/test/${uniqueName("edge-front")}`,
  });
  const { port } = await edge.listen();
  t.teardown(() => edge.close());
  const traceId = "ef".repeat(16);
  const answer = await fetch(`http://127.0.0.1:${port}/bazaar.catalog.v1.CatalogService/CreateProduct`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer any", traceparent: `00-${traceId}-${"12".repeat(8)}-01` },
    body: "{}",
  });
  t.is(answer.status, 500);
  const body = (await answer.json()) as { code: string; message: string };
  t.is(body.code, "internal");
  t.is(body.message, `internal error (trace id ${traceId})`, "nothing of the exception reaches the caller");
  const logged = await eventually("the error's log line", () => lines.find((line) => line.msg === "unexpected error"));
  t.is(logged.trace_id, traceId);
  t.is(logged.procedure, "bazaar.catalog.v1.CatalogService/CreateProduct");
});
