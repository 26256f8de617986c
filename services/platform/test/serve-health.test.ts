import test from "ava";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@bazaar/contracts/grpc/health/v1/health_pb";
import { createHealth } from "../src/serve/health.ts";
import { eventually } from "../src/testing.ts";
import { startServer } from "./fixtures/serve/start.ts";

test("Check is NOT_SERVING while a readiness check fails and SERVING once every check passes", async (t) => {
  const up = { database: false, nats: true };
  const { baseUrl, health } = await startServer(t, { health: { checks: { database: () => up.database, nats: async () => up.nats } } });
  const client = createClient(Health, createGrpcTransport({ baseUrl }));
  await health.refresh();
  t.is((await client.check({ service: "" })).status, Status.NOT_SERVING);
  t.deepEqual(health.failing(), ["database"]);

  up.database = true;
  await health.refresh();
  t.is((await client.check({ service: "" })).status, Status.SERVING);

  up.nats = false;
  await health.refresh();
  t.is((await client.check({ service: "" })).status, Status.NOT_SERVING);
  t.deepEqual(health.failing(), ["nats"]);
});

test("a non-critical check that fails is reported as degraded and never makes the server NOT_SERVING", async (t) => {
  const up = { nats: true };
  const health = createHealth({ checks: { database: () => true }, nonCritical: { nats: () => up.nats } });
  t.teardown(() => health.shutdown());
  t.is(await health.refresh(), "SERVING");
  t.deepEqual(health.degraded(), []);
  up.nats = false;
  t.is(await health.refresh(), "SERVING");
  t.deepEqual(health.degraded(), ["nats"]);
  t.deepEqual(health.failing(), []);
  up.nats = true;
  await health.refresh();
  t.deepEqual(health.degraded(), []);
});

test("a readiness check that throws or outlasts checkTimeoutMs counts as failing", async (t) => {
  const throwing = createHealth({ checks: { broken: () => { throw new Error("boom"); } } });
  const hanging = createHealth({ checks: { slow: () => new Promise<boolean>(() => {}) }, checkTimeoutMs: 50 });
  t.teardown(() => { throwing.shutdown(); hanging.shutdown(); });
  t.is(await throwing.refresh(), "NOT_SERVING");
  t.deepEqual(throwing.failing(), ["broken"]);
  t.is(await hanging.refresh(), "NOT_SERVING");
  t.deepEqual(hanging.failing(), ["slow"]);
});

test("a refresh asked for while a check runs answers from a run that started after the call", async (t) => {
  let up = false;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  // The check reads the state when it starts, then takes a while.
  const health = createHealth({ checks: { dependency: async () => { const seen = up; await gate; return seen; } } });
  t.teardown(() => health.shutdown());
  // The first run (started at creation) saw up = false and is still waiting.
  up = true;
  const refreshed = health.refresh();
  release();
  t.is(await refreshed, "SERVING");
  t.is(health.status(), "SERVING");
});

test("checks are re-run every intervalMs without anyone asking", async (t) => {
  let up = false;
  const health = createHealth({ checks: { dependency: () => up }, intervalMs: 50 });
  t.teardown(() => health.shutdown());
  await health.refresh();
  t.is(health.status(), "NOT_SERVING");
  up = true;
  await eventually("health to be SERVING", () => health.status() === "SERVING", 5000);
});

test("Watch sends the current status, then every change, and ends with NOT_SERVING after shutdown", async (t) => {
  let up = true;
  const { baseUrl, health } = await startServer(t, { health: { checks: { dependency: () => up } } });
  await health.refresh();
  const client = createClient(Health, createGrpcTransport({ baseUrl }));
  const seen: Status[] = [];
  const watching = (async () => {
    for await (const response of client.watch({ service: "" })) seen.push(response.status);
  })();
  await eventually("the first Watch update", () => seen.length === 1);
  up = false;
  await health.refresh();
  await eventually("the second Watch update", () => seen.length === 2);
  up = true;
  await health.refresh();
  await eventually("the third Watch update", () => seen.length === 3);
  health.shutdown();
  await watching; // the stream ends by itself
  t.deepEqual(seen, [Status.SERVING, Status.NOT_SERVING, Status.SERVING, Status.NOT_SERVING]);
  // Checks no longer matter once shut down.
  t.is(await health.refresh(), "NOT_SERVING");
});

test("Check of an unknown service is NOT_FOUND; Watch says SERVICE_UNKNOWN until the service gets a status", async (t) => {
  const { baseUrl, health } = await startServer(t);
  await health.refresh();
  const client = createClient(Health, createGrpcTransport({ baseUrl }));
  const error = await t.throwsAsync(client.check({ service: "bazaar.nothing.v1.Nope" }));
  t.is(ConnectError.from(error).code, Code.NotFound);

  const abort = new AbortController();
  const seen: Status[] = [];
  const watching = (async () => {
    for await (const response of client.watch({ service: "bazaar.later.v1.Later" }, { signal: abort.signal })) seen.push(response.status);
  })().catch(() => {});
  await eventually("the first Watch update", () => seen.length === 1);
  health.setStatus("bazaar.later.v1.Later", "SERVING");
  await eventually("the second Watch update", () => seen.length === 2);
  abort.abort();
  await watching;
  t.deepEqual(seen, [Status.SERVICE_UNKNOWN, Status.SERVING]);
});

test("served services get a status of their own that follows the server's; List shows them all", async (t) => {
  let up = true;
  const { baseUrl, health } = await startServer(t, { health: { checks: { dependency: () => up } } });
  await health.refresh();
  const client = createClient(Health, createGrpcTransport({ baseUrl }));
  const service = "bazaar.platformtest.v1.TestService";
  t.is((await client.check({ service })).status, Status.SERVING);

  health.setStatus(service, "NOT_SERVING");
  t.is((await client.check({ service })).status, Status.NOT_SERVING);
  t.is((await client.check({ service: "" })).status, Status.SERVING, "a service's own status does not change the server's");

  health.setStatus(service, "SERVING");
  up = false;
  await health.refresh();
  t.is((await client.check({ service })).status, Status.NOT_SERVING, "the server being not ready makes every service not ready");

  const list = await client.list({});
  t.deepEqual(
    Object.fromEntries(Object.entries(list.statuses).map(([name, response]) => [name, response.status])),
    { "": Status.NOT_SERVING, [service]: Status.NOT_SERVING },
  );
});

test("a Watch that the client cancels ends on the server", async (t) => {
  const { baseUrl, health, server } = await startServer(t);
  await health.refresh();
  const client = createClient(Health, createGrpcTransport({ baseUrl }));
  const abort = new AbortController();
  let received = 0;
  const watching = (async () => {
    for await (const _ of client.watch({ service: "" }, { signal: abort.signal })) received++;
  })().catch(() => {});
  await eventually("the first stream message, with the stream in flight", () => received === 1 && server.inFlight() === 1);
  abort.abort();
  await watching;
  await eventually("the server-side stream to end", () => server.inFlight() === 0);
  t.is(received, 1);
});

test("setStatus refuses the server's own status and unknown values with a clear error", (t) => {
  const health = createHealth();
  t.teardown(() => health.shutdown());
  t.throws(() => health.setStatus("", "SERVING"), { message: /follows the readiness checks/ });
  t.throws(() => health.setStatus("x.v1.Y", "UP" as never), { message: /SERVING/ });
  t.throws(() => createHealth({ intervalMs: 0 }), { message: /intervalMs/ });
});
