// The client's bookkeeping as plain functions: balancing and ejection, retry budget and backoff, which
// methods retry, service names, option validation; and callContextInterceptor over the Connect protocol.
import test from "ava";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { createBalancer } from "../src/clients/balancer.ts";
import { backoffMs, createRetryBudget, isConnectionFailure, isRetryableError, isRetryableMethod, retryPolicy, wasNeverDelivered } from "../src/clients/retry.ts";
import { clientFor, consulServiceName } from "../src/clients/client-for.ts";
import { createClientTransport } from "../src/clients/client-transport.ts";
import { consulBaseUrl } from "../src/clients/consul-watch.ts";
import { callContextInterceptor } from "../src/call-context-interceptor.ts";
import { testServiceRoutes } from "./fixtures/clients/test-service-routes.ts";

const instances = (...ids: string[]) => ids.map((id) => ({ id, url: `http://${id}.test:8080` }));

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test("an idle balancer takes instances in turn", (t) => {
  const balancer = createBalancer({ random: () => 0.99 });
  balancer.setInstances(instances("a", "b", "c"));
  const picks = Array.from({ length: 6 }, () => balancer.pick()!.instance.id);
  t.deepEqual(picks, ["a", "b", "c", "a", "b", "c"]);
});

test("the balancer prefers the less busy of its two choices", (t) => {
  const balancer = createBalancer({ random: () => 0.99 }); // the random choice is always "b"
  balancer.setInstances(instances("a", "b"));
  const a = balancer.pick()!; // "a" in turn
  a.inFlight = 5;
  t.is(balancer.pick()!.instance.id, "b");
  t.is(balancer.pick()!.instance.id, "b", "a is in turn again, but b is less busy");
});

test("the balancer avoids instances this call already tried, unless none other is left", (t) => {
  const balancer = createBalancer();
  balancer.setInstances(instances("a", "b"));
  t.is(balancer.pick(new Set(["a"]))!.instance.id, "b");
  t.is(balancer.pick(new Set(["b"]))!.instance.id, "a");
  t.truthy(balancer.pick(new Set(["a", "b"])));
  balancer.setInstances([]);
  t.is(balancer.pick(), undefined);
});

test("three consecutive connection failures eject an instance for a cooldown that doubles, then it returns", (t) => {
  const c = clock();
  const balancer = createBalancer({ now: c.now, ejectionBaseMs: 1_000, ejectionMaxMs: 3_000 });
  balancer.setInstances(instances("a", "b"));
  const a = balancer.pick(new Set(["b"]))!;
  balancer.connectionFailed(a);
  balancer.connectionFailed(a);
  t.false(balancer.snapshot().find((e) => e.id === "a")!.ejected);
  balancer.connectionFailed(a);
  t.true(balancer.snapshot().find((e) => e.id === "a")!.ejected);
  t.deepEqual(Array.from({ length: 4 }, () => balancer.pick()!.instance.id), ["b", "b", "b", "b"]);

  c.advance(1_000);
  t.false(balancer.snapshot().find((e) => e.id === "a")!.ejected, "back after the first cooldown");
  // Failing again right after coming back ejects at once, for twice as long.
  balancer.connectionFailed(a);
  t.is(balancer.snapshot().find((e) => e.id === "a")!.ejectedUntil, c.now() + 2_000);
  c.advance(2_000);
  balancer.connectionFailed(a);
  t.is(balancer.snapshot().find((e) => e.id === "a")!.ejectedUntil, c.now() + 3_000, "capped at ejectionMaxMs");
  c.advance(3_000);
  // A call that reaches it clears the record: the next failure counts from one again.
  balancer.reached(a);
  balancer.connectionFailed(a);
  t.false(balancer.snapshot().find((e) => e.id === "a")!.ejected);
});

test("failures of attempts already under way when an instance was ejected do not extend its cooldown", (t) => {
  const c = clock();
  const balancer = createBalancer({ now: c.now, ejectionBaseMs: 1_000 });
  balancer.setInstances(instances("a"));
  const a = balancer.pick()!;
  for (let i = 0; i < 10; i++) balancer.connectionFailed(a);
  t.is(balancer.snapshot()[0]!.ejectedUntil, c.now() + 1_000);
});

test("when every instance is ejected, the least recently ejected one gets the call", (t) => {
  const c = clock();
  const balancer = createBalancer({ now: c.now, ejectAfterFailures: 1, ejectionBaseMs: 20_000 });
  balancer.setInstances(instances("a", "b", "c"));
  const [a, b, cc] = ["a", "b", "c"].map((id) => balancer.pick(new Set(["a", "b", "c"].filter((x) => x !== id)))!);
  balancer.connectionFailed(b!);
  c.advance(10);
  balancer.connectionFailed(a!);
  c.advance(10);
  balancer.connectionFailed(cc!);
  t.true(balancer.snapshot().every((e) => e.ejected));
  t.is(balancer.pick()!.instance.id, "b");
  t.is(balancer.pick()!.instance.id, "b");
});

test("an instance that leaves discovery and comes back starts clean, even if it was ejected", (t) => {
  const c = clock();
  const balancer = createBalancer({ now: c.now, ejectAfterFailures: 1, ejectionBaseMs: 20_000 });
  balancer.setInstances(instances("a", "b"));
  const a = balancer.pick(new Set(["b"]))!;
  balancer.connectionFailed(a);
  t.true(balancer.snapshot().find((e) => e.id === "a")!.ejected);
  const { removed } = balancer.setInstances(instances("b"));
  t.deepEqual(removed.map((e) => e.instance.id), ["a"]);
  t.true(removed[0]!.removed);
  balancer.setInstances(instances("a", "b"));
  t.false(balancer.snapshot().find((e) => e.id === "a")!.ejected);
  // Instances that stay keep their state.
  const b = balancer.pick(new Set(["a"]))!;
  balancer.connectionFailed(b);
  balancer.setInstances(instances("a", "b"));
  t.true(balancer.snapshot().find((e) => e.id === "b")!.ejected);
});

test("the retry budget allows about 20 % of requests plus a floor per second, and refills", (t) => {
  const c = clock();
  const budget = createRetryBudget({ budgetRatio: 0.2, budgetMinPerSecond: 10, budgetMaxTokens: 20 }, c.now);
  let allowed = 0;
  for (let i = 0; i < 1_000; i++) {
    budget.recordRequest();
    if (budget.tryRetry()) allowed++;
  }
  // 20 saved up, then one per five requests.
  t.true(allowed >= 210 && allowed <= 221, `allowed ${allowed}`);
  while (budget.tryRetry()) allowed++;
  t.false(budget.tryRetry());
  c.advance(1_000);
  let refilled = 0;
  while (budget.tryRetry()) refilled++;
  t.is(refilled, 10);
});

test("backoff is full jitter under an exponentially growing, capped ceiling", (t) => {
  const policy = { initialBackoffMs: 50, maxBackoffMs: 1_000 };
  t.is(backoffMs(1, policy, () => 0.999999), 49);
  t.is(backoffMs(2, policy, () => 0.999999), 99);
  t.is(backoffMs(3, policy, () => 0.5), 100);
  t.is(backoffMs(10, policy, () => 0.999999), 999);
  t.is(backoffMs(10, policy, () => 0), 0);
});

test("only NO_SIDE_EFFECTS and IDEMPOTENT methods are retryable", (t) => {
  t.true(isRetryableMethod(TestService.method.echo));
  t.true(isRetryableMethod(TestService.method.wait));
  t.true(isRetryableMethod(TestService.method.whoAmI));
  t.false(isRetryableMethod(TestService.method.record));
  t.false(isRetryableMethod(TestService.method.relay));
  t.false(isRetryableMethod(TestService.method.createThing));
});

test("unavailable and broken connections are retryable errors; answers of other kinds are not", (t) => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
  const reset = new ConnectError("aborted", Code.Aborted, undefined, undefined, Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
  t.true(isConnectionFailure(new ConnectError("x", Code.Unavailable, undefined, undefined, refused)));
  t.true(isConnectionFailure(reset));
  t.true(isRetryableError(reset));
  t.true(isRetryableError(new ConnectError("down", Code.Unavailable)));
  t.false(isConnectionFailure(new ConnectError("down", Code.Unavailable)));
  t.false(isRetryableError(new ConnectError("conflict", Code.Aborted)));
  t.false(isRetryableError(new ConnectError("late", Code.DeadlineExceeded)));
  t.false(isRetryableError(new ConnectError("nope", Code.InvalidArgument)));
});

test("only a refused connection or a refused stream counts as never delivered (safe to resend for any method)", (t) => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
  t.true(wasNeverDelivered(new ConnectError("down", Code.Unavailable, undefined, undefined, refused)));
  t.true(wasNeverDelivered(new ConnectError("http/2 stream closed with error code REFUSED_STREAM (0x7)", Code.Internal)));
  t.true(wasNeverDelivered(Object.assign(new Error("Stream closed with error code NGHTTP2_REFUSED_STREAM"), { code: "ERR_HTTP2_STREAM_ERROR" })));
  // A reset mid-call may have reached the handler: not resent unless the method allows it.
  t.false(wasNeverDelivered(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })));
  t.false(wasNeverDelivered(new ConnectError("down", Code.Unavailable)));
});

test("Consul service names derive from the protobuf package", (t) => {
  t.is(consulServiceName({ typeName: "bazaar.catalog.v1.CatalogService" }), "catalog");
  t.is(consulServiceName(TestService), "platformtest");
  t.is(consulServiceName({ typeName: "grpc.health.v1.Health" }), "health");
  t.throws(() => consulServiceName({ typeName: "Lonely" }), { instanceOf: TypeError, message: /pass serviceName/ });
});

test("bad client options are refused with a clear message", (t) => {
  t.throws(() => clientFor(TestService, { address: "http://127.0.0.1:1", consulAddr: "127.0.0.1:8500" } as never), { message: /either \{ consulAddr, serviceName \}.*or \{ address/ });
  t.throws(() => clientFor(TestService, {} as never), { message: /either/ });
  t.throws(() => clientFor(TestService, { address: "not a url" }), { message: /address must be "http:\/\/host:port"/ });
  t.throws(() => clientFor(TestService, { address: "ftp://x:1" }), { message: /address must be/ });
  t.throws(() => createClientTransport({ consulAddr: "127.0.0.1:8500", serviceName: "" }), { message: /serviceName/ });
  t.throws(() => clientFor(TestService, { address: "http://127.0.0.1:1", retry: { maxAttempts: 0 } }), { message: /maxAttempts/ });
  t.throws(() => clientFor(TestService, { address: "http://127.0.0.1:1", defaultTimeoutMs: -1 }), { message: /defaultTimeoutMs/ });
  t.throws(() => retryPolicy({ budgetRatio: Number.NaN }), { message: /budgetRatio/ });
  t.is(consulBaseUrl("127.0.0.1:8500"), "http://127.0.0.1:8500");
  t.is(consulBaseUrl("https://consul.internal:8501"), "https://consul.internal:8501");
  t.throws(() => consulBaseUrl("::::"), { message: /consulAddr must be/ });
});

// callContextInterceptor over the Connect and gRPC-Web protocols (the gRPC path runs in clients.test.ts).
test("the call context carries the deadline sent as connect-timeout-ms or grpc-timeout, and the call's signal", async (t) => {
  const server = http2.createServer(
    connectNodeAdapter({ routes: testServiceRoutes({ id: "in-process", mode: "ok", report() {} }), interceptors: [callContextInterceptor()] }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const transport of [createConnectTransport({ baseUrl, httpVersion: "2" }), createGrpcWebTransport({ baseUrl, httpVersion: "2" })]) {
    const client = createClient(TestService, transport);
    const seen = await client.wait({ durationMs: 1n }, { timeoutMs: 800 });
    t.true(seen.deadlineRemainingMs > 0n && seen.deadlineRemainingMs <= 800n, `remaining ${seen.deadlineRemainingMs}`);
    t.false(seen.aborted);
    const none = await client.wait({ durationMs: 1n });
    t.is(none.deadlineRemainingMs, 0n);
    const error = await t.throwsAsync(client.wait({ durationMs: 10_000n }, { timeoutMs: 100 }), { instanceOf: ConnectError });
    t.is(error.code, Code.DeadlineExceeded);
  }
});
