// What the edge's node-level front answers by itself, with no service behind it: body limits whether
// the length is declared or not, and which requests its access log keeps at info.
import http from "node:http";
import http2 from "node:http2";
import { randomUUID } from "node:crypto";
import test from "ava";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createTokenVerifier, type Principal } from "@bazaar/platform";
import { capturingLogger, eventually, testEnv, uniqueName } from "@bazaar/platform/testing";
import { createEdge } from "../src/index.ts";

const consulAddr = testEnv.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500";
const search = "/bazaar.catalog.v1.CatalogService/SearchProducts";

async function startEdge(t: { teardown(fn: () => Promise<void>): void }, extra: { trustedProxies?: string[]; rateLimitsKey?: string } = {}) {
  const { logger, lines } = capturingLogger("edge");
  const edge = createEdge({
    ...extra,
    logger,
    verifier: createTokenVerifier({ jwks: { keys: [] }, issuer: "bazaar-identity", audience: "bazaar" }),
    consulAddr,
    // Nobody serves these: every request here is answered before forwarding.
    upstreams: { catalog: uniqueName("catalog") },
    rateLimitsKey: extra.rateLimitsKey ?? `bazaar/test/${uniqueName("edge-front")}`,
    maxBodyBytes: 1024,
  });
  const { port } = await edge.listen();
  t.teardown(() => edge.close());
  return { port, lines, edge };
}

/** An edge whose per-address bucket holds 2 calls (Consul KV), for the client-address tests. */
async function startTightEdge(t: { teardown(fn: () => Promise<void>): void }, trustedProxies?: string[]) {
  const key = `bazaar/test/${uniqueName("edge-limits")}`;
  const consul = `http://${consulAddr}`;
  await fetch(`${consul}/v1/kv/${key}`, { method: "PUT", body: JSON.stringify({ perAddress: { perSecond: 0.01, burst: 2 }, perUser: { perSecond: 1000, burst: 1000 } }) });
  t.teardown(() => fetch(`${consul}/v1/kv/${key}`, { method: "DELETE" }).then(() => undefined));
  const started = await startEdge(t, { trustedProxies, rateLimitsKey: key });
  await eventually("the edge to read the tight limits", async () => started.edge.rateLimits().perAddress.burst === 2);
  const call = (forwardedFor: string) => fetch(`http://127.0.0.1:${started.port}/openapi.json`, { headers: { "x-forwarded-for": forwardedFor } }).then(async (r) => (await r.arrayBuffer(), r.status));
  return { ...started, call };
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

test("by default a spoofed x-forwarded-for does not change the caller's rate-limit bucket", async (t) => {
  const { call, lines } = await startTightEdge(t);
  const statuses = [await call("203.0.113.1"), await call("203.0.113.2"), await call("203.0.113.3"), await call("198.51.100.9")];
  t.deepEqual(statuses, [200, 200, 429, 429], "every request counts against the socket's address");
  const access = await eventually("the access lines", () => {
    const found = lines.filter((line) => line.msg === "edge access");
    return found.length >= 4 ? found : undefined;
  });
  t.true(access.every((line) => line.client === "127.0.0.1"), "the logged client is the socket's address");
});

test("behind a trusted proxy the client is the right-most untrusted x-forwarded-for hop, so a spoofed left-most hop does not help", async (t) => {
  // The test's own socket (127.0.0.1) and 10.0.0.0/8 stand for the proxies in front of the edge.
  const { call } = await startTightEdge(t, ["127.0.0.1", "10.0.0.0/8"]);
  t.is(await call("203.0.113.7, 10.1.2.3"), 200);
  t.is(await call("1.1.1.1, 203.0.113.7"), 200, "a made-up left hop is not the client");
  t.is(await call("8.8.8.8, 203.0.113.7, 10.9.9.9"), 429, "same client behind two proxies: same bucket");
  t.is(await call("198.51.100.4"), 200, "another client has its own bucket");
});

test("the CSP allows no inline script, and the /docs page loads its script from the edge's own origin", async (t) => {
  const { port } = await startEdge(t);
  const page = await fetch(`http://127.0.0.1:${port}/docs`);
  const csp = page.headers.get("content-security-policy") ?? "";
  const scriptSrc = csp.split(";").map((part) => part.trim()).find((part) => part.startsWith("script-src"));
  t.is(scriptSrc, "script-src 'self'");
  const html = await page.text();
  t.deepEqual([...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]), [' src="/docs.js" defer'], "no inline script block");
  const script = await fetch(`http://127.0.0.1:${port}/docs.js`);
  t.is(script.status, 200);
  t.regex(script.headers.get("content-type") ?? "", /^text\/javascript/);
  t.regex(await script.text(), /fetch\("\/openapi.json"\)/);
});

test("a service token sent through the edge is refused (permission_denied); a user token signed by the same key is forwarded", async (t) => {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "EdDSA", use: "sig" };
  const sign = (claims: Record<string, unknown>, subject: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid: "k1", typ: "at+jwt" }).setJti(randomUUID()).setSubject(subject).setIssuer("bazaar-identity").setAudience("bazaar").setIssuedAt().setExpirationTime("5m").sign(privateKey);
  const edge = createEdge({
    logger: capturingLogger("edge").logger,
    verifier: createTokenVerifier({ jwks: { keys: [jwk] }, issuer: "bazaar-identity", audience: "bazaar" }),
    consulAddr,
    // Nobody serves the catalog: a forwarded call ends unavailable, a refused one never gets that far.
    upstreams: { catalog: uniqueName("catalog") },
    rateLimitsKey: `bazaar/test/${uniqueName("edge-front")}`,
  });
  const { port } = await edge.listen();
  t.teardown(() => edge.close());
  const call = async (token: string) => {
    const answer = await fetch(`http://127.0.0.1:${port}${search}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: "{}" });
    return { status: answer.status, body: (await answer.json()) as { code: string; message: string } };
  };
  const service = await call(await sign({ svc: true, roles: [] }, "order"));
  t.is(service.status, 403, JSON.stringify(service.body));
  t.is(service.body.code, "permission_denied");
  t.regex(service.body.message, /service tokens/);
  const user = await call(await sign({ roles: ["customer"] }, "0190a0b0-0000-7000-8000-000000000001"));
  t.is(user.body.code, "unavailable", "the user's token passed the edge's check");
});

test("/metrics is served on its own port only: the public port answers 404 and the metrics port serves nothing else", async (t) => {
  const { port, edge } = await startEdge(t);
  await fetch(`http://127.0.0.1:${port}/openapi.json`).then((r) => r.arrayBuffer());
  const { metricsPort } = await edge.listen();
  t.truthy(metricsPort);
  t.not(metricsPort, port);
  const publicMetrics = await fetch(`http://127.0.0.1:${port}/metrics`);
  t.is(publicMetrics.status, 404);
  t.notRegex(await publicMetrics.text(), /rpc_server_requests_total|process_cpu/);
  const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  t.is(metrics.status, 200);
  t.regex(await metrics.text(), /edge_http_requests_total|rpc_server|process_cpu/);
  t.is((await fetch(`http://127.0.0.1:${metricsPort}/openapi.json`)).status, 404);
  t.is((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status, 404);
});
