// clientFor against real Consul and real servers: TestService instances run as child processes and
// register themselves in Consul (test/fixtures/clients).
import test from "ava";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { create } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus } from "@bazaar/contracts/grpc/health/v1/health_pb";
import { createSupervisor, ensureConsul, freePort, isListening, stackSettings } from "@bazaar/stack";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { clientFor, clientTransport, closeClient } from "../src/clients/client-for.ts";
import { createClientTransport, type ClientTransportOptions } from "../src/clients/client-transport.ts";
import { consulAddr, passingIds, poll, startFixture, uniqueName, waitForPassing } from "./fixtures/clients/harness.ts";

function discoveryClient(t: import("ava").ExecutionContext, service: string, extra: ClientTransportOptions = {}) {
  const client = clientFor(TestService, { consulAddr, serviceName: service, ...extra });
  t.teardown(() => closeClient(client));
  return client;
}

test("calls through Consul are balanced across both passing instances", async (t) => {
  const service = uniqueName();
  const [a, b] = await Promise.all([startFixture(t, { service }), startFixture(t, { service })]);
  await waitForPassing(service, [a.id, b.id]);
  const client = discoveryClient(t, service);

  const seen = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    const { instanceId } = await client.echo({ message: `hello ${i}` });
    seen.set(instanceId, (seen.get(instanceId) ?? 0) + 1);
  }
  t.deepEqual([...seen.keys()].sort(), [a.id, b.id].sort());
  t.true(seen.get(a.id)! >= 5 && seen.get(b.id)! >= 5, `spread: ${JSON.stringify([...seen])}`);
});

test("an instance killed with SIGKILL: every Echo still succeeds, and the dead one is ejected then leaves the pool", async (t) => {
  const service = uniqueName();
  const [a, b] = await Promise.all([startFixture(t, { service }), startFixture(t, { service, ttl: "3s" })]);
  await waitForPassing(service, [a.id, b.id]);
  const client = discoveryClient(t, service);
  const transport = clientTransport(client)!;

  let running = true;
  let ok = 0;
  const failures: string[] = [];
  let sawEjected = false;
  const worker = async (n: number) => {
    for (let i = 0; running; i++) {
      try {
        await client.echo({ message: `w${n}-${i}` }, { timeoutMs: 5_000 });
        ok++;
      } catch (error) {
        failures.push(String(error));
      }
      if (transport.endpoints().some((e) => e.id === b.id && e.ejected)) sawEjected = true;
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  await poll(() => b.calls("Echo") >= 10, { what: "calls to reach the instance to be killed" });
  await b.kill("SIGKILL");
  const okAtKill = ok;
  // The dead instance leaves: Consul's TTL check expires, the watch drops it.
  await poll(() => !transport.endpoints().some((e) => e.id === b.id), { what: "the killed instance to leave the pool", timeoutMs: 20_000 });
  await poll(() => ok >= okAtKill + 50, { what: "more calls after the kill" });
  running = false;
  await Promise.all(workers);

  t.deepEqual(failures, []);
  t.true(sawEjected, "the killed instance was ejected before Consul dropped it");
  t.false((await passingIds(service)).includes(b.id));
  t.deepEqual(transport.endpoints().map((e) => e.id), [a.id]);
});

test("a non-idempotent call (Record) answered unavailable is tried exactly once; an idempotent one (Echo) up to three times", async (t) => {
  const service = uniqueName();
  const u = await startFixture(t, { service, mode: "unavailable" });
  await waitForPassing(service, [u.id]);
  const client = discoveryClient(t, service);

  const record = await t.throwsAsync(client.record({ key: "once" }), { instanceOf: ConnectError });
  t.is(record.code, Code.Unavailable);
  const echo = await t.throwsAsync(client.echo({ message: "thrice" }), { instanceOf: ConnectError });
  t.is(echo.code, Code.Unavailable);

  await poll(() => u.calls("Echo", "thrice") >= 3, { what: "three Echo attempts" });
  t.is(u.calls("Record", "once"), 1);
  t.is(u.calls("Echo", "thrice"), 3);
});

test("an idempotent call answered unavailable is retried on the other instance, re-running the client interceptors", async (t) => {
  const service = uniqueName();
  const [u, a] = await Promise.all([startFixture(t, { service, mode: "unavailable" }), startFixture(t, { service })]);
  await waitForPassing(service, [u.id, a.id]);
  const attempts: string[] = [];
  const counting: Interceptor = (next) => async (req) => {
    attempts.push(new URL(req.url).port);
    return next(req);
  };
  const client = discoveryClient(t, service, { interceptors: [counting] });

  for (let i = 0; i < 6; i++) {
    const response = await client.echo({ message: `retry ${i}` });
    t.is(response.instanceId, a.id);
  }
  const unavailableCalls = u.calls("Echo");
  t.true(unavailableCalls >= 1, "some first attempts went to the unavailable instance");
  // Each failed attempt was followed by one on the healthy instance: never twice the same one.
  t.is(a.calls("Echo"), 6);
  t.is(attempts.length, 6 + unavailableCalls);
  t.is(attempts.filter((p) => p === String(u.port)).length, unavailableCalls);
});

test("a deadline set by the first caller is seen two hops down, and its signal aborts there", async (t) => {
  const service = uniqueName();
  const [a, b] = await Promise.all([startFixture(t, { service }), startFixture(t, { service })]);
  await waitForPassing(service, [a.id, b.id]);
  const client = discoveryClient(t, service);
  // Warm up: each instance's own client finds its peers in Consul and connects, outside the deadline.
  for (let i = 0; i < 4; i++) t.is((await client.relay({ hops: 2n, waitMs: 1n })).lastHop?.aborted, false);

  const error = await t.throwsAsync(client.relay({ hops: 2n, waitMs: 5_000n }, { timeoutMs: 1_000 }), { instanceOf: ConnectError });
  t.is(error.code, Code.DeadlineExceeded);

  // The last hop (Relay → Relay → Wait) reports what it saw on its stdout: the caller has long given up.
  // (The warm-up calls had no deadline.)
  const waits = () => [...a.events, ...b.events].filter((e) => e.event === "wait" && e.hadDeadline);
  await poll(() => waits().length > 0, { what: "the last hop to report", timeoutMs: 10_000 });
  const [last] = waits();
  t.is(last?.event, "wait");
  if (last?.event !== "wait") return;
  t.true(last.remainingMs > 0 && last.remainingMs <= 1_000, `remaining ${last.remainingMs} ms`);
  t.true(last.aborted, "the last hop's signal aborted");
  t.is(a.calls("Relay") + b.calls("Relay"), 2 * 5);
});

test("a service with no passing instances fails unavailable with a message naming it", async (t) => {
  const service = uniqueName("clients-test-nobody");
  const client = discoveryClient(t, service);
  const error = await t.throwsAsync(client.echo({ message: "anyone?" }), { instanceOf: ConnectError });
  t.is(error.code, Code.Unavailable);
  t.regex(error.message, /no passing instances/);
  t.true(error.message.includes(`"${service}"`), error.message);
});

test("a fixed address reaches its server without Consul", async (t) => {
  const fixture = await startFixture(t, { service: uniqueName(), register: false });
  const client = clientFor(TestService, { address: fixture.url });
  t.teardown(() => closeClient(client));
  const response = await client.echo({ message: "direct" });
  t.is(response.message, "direct");
  t.is(response.instanceId, fixture.id);
  // A Relay through a fixed address still carries the deadline to the handler.
  const wait = await client.wait({ durationMs: 1n }, { timeoutMs: 2_000 });
  t.true(wait.deadlineRemainingMs > 0n && wait.deadlineRemainingMs <= 2_000n);
});

test("when Consul is unreachable from the start, a call fails unavailable and says so", async (t) => {
  const nowhere = `127.0.0.1:${await freePort()}`;
  const client = clientFor(TestService, { consulAddr: nowhere, serviceName: uniqueName() });
  t.teardown(() => closeClient(client));
  const error = await t.throwsAsync(client.echo({ message: "x" }, { timeoutMs: 1_000 }), { instanceOf: ConnectError });
  t.is(error.code, Code.Unavailable);
  t.regex(error.message, /no answer from Consul within \d+ ms \(the call's deadline\) \(last error: .*ECONNREFUSED/);
  t.true(error.message.includes(nowhere), error.message);
});

test("when Consul goes away, calls keep going to the instances it last listed", async (t) => {
  const stateDir = mkdtempSync(path.join(tmpdir(), "clients-consul-"));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const privateAddr = `127.0.0.1:${await freePort()}`;
  const consul = await ensureConsul({ ...stackSettings(), consulAddr: privateAddr, stateDir }, createSupervisor({ write() {} }));
  t.teardown(() => consul.process?.stop());
  t.truthy(consul.process, "a private Consul was started");

  const service = uniqueName();
  const fixture = await startFixture(t, { service, consulAddr: privateAddr });
  await waitForPassing(service, [fixture.id], privateAddr);
  const client = clientFor(TestService, { consulAddr: privateAddr, serviceName: service });
  t.teardown(() => closeClient(client));
  t.is((await client.echo({ message: "before" })).instanceId, fixture.id);

  await consul.process!.stop();
  const [host, port] = privateAddr.split(":");
  await poll(async () => !(await isListening(host!, Number(port))), { what: "the private Consul to stop" });
  for (let i = 0; i < 10; i++) t.is((await client.echo({ message: `after ${i}` })).instanceId, fixture.id);
});

test("a retryable server stream is retried on another instance until its first message", async (t) => {
  const service = uniqueName();
  // One instance that is registered but dead (nothing listens), one alive.
  const deadId = uniqueName("dead");
  const deadPort = await freePort();
  const registered = await fetch(`http://${consulAddr}/v1/agent/service/register`, {
    method: "PUT",
    body: JSON.stringify({ ID: deadId, Name: service, Address: "127.0.0.1", Port: deadPort }),
  });
  t.true(registered.ok);
  t.teardown(() => fetch(`http://${consulAddr}/v1/agent/service/deregister/${deadId}`, { method: "PUT" }).then(() => undefined));
  const alive = await startFixture(t, { service });
  await waitForPassing(service, [deadId, alive.id]);

  const transport = createClientTransport({ consulAddr, serviceName: service });
  t.teardown(() => transport.close());
  // Health.Watch is not marked idempotent; the same method declared NO_SIDE_EFFECTS may be retried.
  const watch = { ...Health.method.watch, idempotency: MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS };
  for (let i = 0; i < 4; i++) {
    const controller = new AbortController();
    const response = await transport.stream(watch, controller.signal, undefined, undefined, createAsyncIterable([create(HealthCheckRequestSchema)]));
    const first = await response.message[Symbol.asyncIterator]().next();
    t.is(first.done, false);
    t.is(first.value?.status, HealthCheckResponse_ServingStatus.SERVING);
    controller.abort();
  }
  t.is(alive.calls("Health.Watch"), 4);

  // Not marked: a stream to the dead instance fails unavailable, naming it, and is not retried. (A
  // transport with other ejection settings has its own pool, where the dead instance is not ejected yet.)
  const plain = createClientTransport({ consulAddr, serviceName: service, ejectAfterFailures: 10 });
  t.teardown(() => plain.close());
  const health = createClient(Health, plain);
  const failures: ConnectError[] = [];
  for (let i = 0; i < 2; i++) {
    const controller = new AbortController();
    try {
      for await (const status of health.watch({}, { signal: controller.signal })) {
        t.is(status.status, HealthCheckResponse_ServingStatus.SERVING);
        break;
      }
    } catch (error) {
      failures.push(ConnectError.from(error));
    } finally {
      controller.abort();
    }
  }
  t.is(failures.length, 1, "one of two streams went to the dead instance and was not retried");
  t.is(failures[0]?.code, Code.Unavailable);
  t.true(failures[0]?.message.includes(deadId), failures[0]?.message);
});
