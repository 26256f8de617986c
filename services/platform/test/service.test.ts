// The whole runtime, as a service uses it: createService against the real PostgreSQL, NATS JetStream
// and Consul — discovery, tracing across RPC and events, graceful shutdown and failover.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { SpanKind, trace } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import test from "ava";
import { BadRequestSchema, ErrorInfoSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { createSupervisor, ensureNats, freePort, stackSettings } from "@bazaar/stack";
import {
  clientFor,
  clientTracingInterceptor,
  closeClient,
  createService,
  loadConfig,
  platformConfigSchema,
  startTelemetry,
  type Database,
  type RunningService,
} from "../src/index.ts";
import { dropServiceDatabase, eventually, passingInstances, testEnv, uniqueName as makeUniqueName } from "../src/testing.ts";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { testService, testServiceUpstreams, type TestServiceOptions } from "./fixtures/runtime/test-service.ts";

const consulAddr = process.env.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500";
const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({ serviceName: "platform-service-test", exporter });
test.after.always(() => telemetry.shutdown());

const env: NodeJS.ProcessEnv = { ...testEnv, SHUTDOWN_GRACE_MS: "5000" };
const uniqueName = () => makeUniqueName("pt");
const dropDatabase = (name: string) => dropServiceDatabase(name);

async function startInProcess(t: { teardown(fn: () => Promise<void> | void): void }, options: TestServiceOptions): Promise<RunningService> {
  const service = await createService(testService(options), { config: loadConfig(platformConfigSchema, env), upstreams: testServiceUpstreams(options.name) });
  t.teardown(async () => {
    await service.stop();
    await dropDatabase(options.name);
  });
  // Consul runs the instance's gRPC health check on its own schedule.
  await eventually("the instance passing in Consul", async () => (await passingInstances(options.name)).length === 1);
  return service;
}


test("a service made by createService registers in Consul, answers through discovery and counts its calls", async (t) => {
  const name = uniqueName();
  const service = await startInProcess(t, { name });
  const [instance] = await passingInstances(name);
  t.is(instance?.Service.Port, service.port);
  t.deepEqual(instance?.Service.Tags, ["version=1.2.3"]);

  const client = clientFor(TestService, { consulAddr, serviceName: name });
  t.teardown(() => closeClient(client));
  const reply = await client.echo({ message: "hello" });
  t.is(reply.message, "hello");
  t.is(reply.instanceId, service.runtime.instanceId);

  const document = await fetch(`http://${service.address}/.well-known/test.json`);
  t.is(document.headers.get("cache-control"), "max-age=60");
  t.deepEqual(await document.json(), { instance: service.runtime.instanceId });

  const metrics = await (await fetch(`http://${service.address}/metrics`)).text();
  t.regex(metrics, /rpc_server_requests_total\{[^}]*method="bazaar.platformtest.v1.TestService\/Echo"[^}]*code="ok"[^}]*\} 1/);
});

test("background tasks start once the service serves and are stopped, after their work, when it shuts down", async (t) => {
  const name = uniqueName();
  t.teardown(() => dropDatabase(name));
  const events: string[] = [];
  const base = testService({ name });
  const service = await createService<Database>(
    {
      ...base,
      setup: async (runtime) => ({
        ...(await base.setup(runtime)),
        background: () => {
          events.push(`started, serving: ${runtime.health.status() ?? "unknown"}`);
          return [{ stop: async () => void events.push("stopped") }];
        },
      }),
    },
    { config: loadConfig(platformConfigSchema, env) },
  );
  t.deepEqual(events, ["started, serving: SERVING"]);
  t.true(await service.stop());
  t.deepEqual(events, ["started, serving: SERVING", "stopped"]);
});

test("a consumer of a domain the definition does not list in consumes is refused at start, before the service registers", async (t) => {
  const name = uniqueName();
  t.teardown(() => dropDatabase(name));
  const base = testService({ name });
  const refused = await t.throwsAsync(
    createService<Database>(
      { ...base, setup: async (runtime) => ({ ...(await base.setup(runtime)), consumers: [{ domain: "platformtest", durable: name, handlers: [] }] }) },
      { config: loadConfig(platformConfigSchema, env) },
    ),
    { instanceOf: TypeError },
  );
  t.regex(refused?.message ?? "", /reads "platformtest", which the definition's consumes does not list/);
  t.deepEqual(await passingInstances(name), []);
});

test("bad input and internal faults reach the client as clear codes, never as internal details", async (t) => {
  const name = uniqueName();
  await startInProcess(t, { name });
  const client = clientFor(TestService, { consulAddr, serviceName: name });
  t.teardown(() => closeClient(client));
  const invalid = await t.throwsAsync(client.createThing({ name: "" }));
  t.is(ConnectError.from(invalid).code, Code.InvalidArgument);
  t.regex(ConnectError.from(invalid).rawMessage, /name: is required/);
  const internal = ConnectError.from(await t.throwsAsync(client.fail({ kind: "boom" })));
  t.is(internal.code, Code.Internal);
  t.notRegex(internal.rawMessage, /secret internal detail/);
});

test("a dependency's failure reaches the caller as this service's answer: retryable stays retryable, anything else is internal, never the dependency's words", async (t) => {
  const name = uniqueName();
  await startInProcess(t, { name });
  const client = clientFor(TestService, { consulAddr, serviceName: name });
  t.teardown(() => closeClient(client));
  const failure = async (kind: string) => ConnectError.from(await t.throwsAsync(client.fail({ kind }), undefined, kind));

  // Its own answers are unchanged…
  t.is((await failure("not_found")).code, Code.NotFound);
  t.is((await failure("failed_precondition")).findDetails(ErrorInfoSchema)[0]?.reason, "NOT_NOW");
  // …a dependency's are not the caller's: its not_found or bad argument is this service's bug.
  for (const kind of ["not_found", "invalid_argument", "failed_precondition"]) {
    const error = await failure(`via:${kind}`);
    t.is(error.code, Code.Internal, kind);
    t.regex(error.rawMessage, /^internal error/, kind);
    t.deepEqual([error.findDetails(BadRequestSchema), error.findDetails(ErrorInfoSchema)], [[], []], `${kind}: none of the dependency's details`);
  }
  for (const [kind, code] of [
    ["unavailable", Code.Unavailable],
    ["resource_exhausted", Code.Unavailable],
    ["aborted", Code.Aborted],
  ] as const) {
    const error = await failure(`via:${kind}`);
    t.is(error.code, code, kind);
    t.notRegex(error.rawMessage, /maintenance|too many things|changed meanwhile/, `${kind}: not the dependency's message`);
  }
});

test("one trace id spans RPC → event → consumer → RPC", async (t) => {
  const name = uniqueName();
  const seen: Array<{ what: string; message: string; traceId: string }> = [];
  await startInProcess(t, { name, consumeThings: true, observe: (what, detail) => seen.push({ what, ...detail }) });
  const client = clientFor(TestService, { consulAddr, serviceName: name, interceptors: [clientTracingInterceptor()] });
  t.teardown(() => closeClient(client));

  // The test is the first caller: its span starts the trace the whole chain must stay in.
  const { thingId, traceId } = await trace.getTracer("test").startActiveSpan("shopper", async (span) => {
    const reply = await client.createThing({ name: `${name}:lamp` });
    span.end();
    return { thingId: reply.thingId, traceId: span.spanContext().traceId };
  });
  await eventually("the consumer's Echo call", () => seen.some((s) => s.what === "echo" && s.message === thingId));
  t.is(seen.find((s) => s.what === "thing-consumed" && s.message === thingId)?.traceId, traceId, "the consumer ran in the RPC's trace");
  t.is(seen.find((s) => s.what === "echo" && s.message === thingId)?.traceId, traceId, "the consumer's RPC continued it");
  // The consumer's span ends after its handler (which made the Echo call) returns: wait for it.
  const kinds = await eventually("the consumer span ended", async () => {
    await telemetry.forceFlush();
    const seenKinds = new Set(exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId).map((s) => s.kind));
    return seenKinds.has(SpanKind.CONSUMER) && seenKinds;
  });
  t.deepEqual([...kinds].sort(), [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER].sort());
});

test("a deadline set by the first caller reaches two hops down, and so does its trace", async (t) => {
  const name = uniqueName();
  await startInProcess(t, { name });
  const client = clientFor(TestService, { consulAddr, serviceName: name });
  t.teardown(() => closeClient(client));
  const reply = await client.relay({ hops: 2n, waitMs: 1n }, { timeoutMs: 4000 });
  const remaining = Number(reply.lastHop?.deadlineRemainingMs);
  t.true(remaining > 0 && remaining <= 4000, `last hop saw ${remaining} ms left`);
  t.is(reply.lastHop?.traceId, reply.traceId);
  const late = ConnectError.from(await t.throwsAsync(client.relay({ hops: 2n, waitMs: 10_000n }, { timeoutMs: 500 })));
  t.is(late.code, Code.DeadlineExceeded);
});

test("NATS away does not take a service out of Consul: it stays ready, reports nats degraded and bazaar_events_nats_connected 0, and recovers", async (t) => {
  const stateDir = mkdtempSync(path.join(tmpdir(), "bazaar-readiness-"));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const supervisor = createSupervisor({ write: () => {} });
  t.teardown(() => supervisor.stopAll());
  const settings = { ...stackSettings(), natsUrl: `nats://127.0.0.1:${await freePort()}`, stateDir };
  const natsServer = await ensureNats(settings, supervisor);

  const name = uniqueName();
  const service = await createService(testService({ name }), {
    config: loadConfig(platformConfigSchema, { ...env, NATS_URL: natsServer.adminUrl }),
    upstreams: testServiceUpstreams(name),
  });
  t.teardown(async () => {
    await service.stop();
    await dropDatabase(name);
  });
  const ready = async () => (await fetch(`http://${service.address}/readyz`)).status;
  const connectedGauge = async () => /^bazaar_events_nats_connected(?:\{[^}]*\})? (\d)/m.exec(await (await fetch(`http://${service.address}/metrics`)).text())?.[1];
  await eventually("ready", async () => (await ready()) === 200);
  await eventually("passing in Consul", async () => (await passingInstances(name)).length === 1, 30_000);
  t.is(await connectedGauge(), "1");

  await natsServer.process!.stop();
  await eventually("nats reported degraded", async () => (await service.runtime.health.refresh(), service.runtime.health.degraded().includes("nats")), 30_000);
  t.is(await connectedGauge(), "0");
  t.is(service.runtime.health.status(), "SERVING");
  t.deepEqual(service.runtime.health.failing(), []);
  t.is(await ready(), 200);
  t.deepEqual(await (await fetch(`http://${service.address}/readyz`)).json(), { status: "SERVING", failing: [], degraded: ["nats"] });
  t.is((await passingInstances(name)).length, 1, "still passing in Consul");

  await ensureNats(settings, supervisor);
  await eventually("no longer degraded once NATS is back", async () => (await service.runtime.health.refresh(), service.runtime.health.degraded().length === 0), 30_000);
  t.is(await connectedGauge(), "1");
});

/** Starts the fixture service as a process; `lines` collects what it prints. */
function spawnService(t: { teardown(fn: () => void): void }, name: string): Promise<{ child: ChildProcess; port: number; lines: string[] }> {
  const main = fileURLToPath(new URL("fixtures/runtime/main.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", main], {
    env: { ...env, TEST_SERVICE_NAME: name },
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.teardown(() => void child.kill("SIGKILL"));
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code} before serving`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      const port = /^port (\d+)$/.exec(line)?.[1];
      if (port) resolve({ child, port: Number(port), lines });
    });
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", resolve)));

test("SIGTERM deregisters the instance and drains: the call in flight succeeds, then the process exits cleanly", async (t) => {
  const name = uniqueName();
  t.teardown(() => dropDatabase(name));
  const { child, lines } = await spawnService(t, name);
  await eventually("the instance passing in Consul", async () => (await passingInstances(name)).length === 1);
  const client = clientFor(TestService, { consulAddr, serviceName: name });
  t.teardown(() => closeClient(client));

  const inFlight = client.wait({ durationMs: 1500n });
  await eventually("the call to reach the handler", () => lines.includes("wait started"));
  child.kill("SIGTERM");
  const reply = await inFlight;
  t.false(reply.aborted, "the handler ran to the end");
  t.is(await exited(child), 0);
  const all = (await (await fetch(`http://${consulAddr}/v1/health/service/${name}`)).json()) as unknown[];
  t.deepEqual(all, [], "deregistered");
});

test("two instances; one killed with SIGKILL: calls keep succeeding and the dead one leaves the pool", async (t) => {
  const name = uniqueName();
  t.teardown(() => dropDatabase(name));
  const first = await spawnService(t, name);
  const second = await spawnService(t, name);
  await eventually("both instances passing", async () => (await passingInstances(name)).length === 2);
  const client = clientFor(TestService, { consulAddr, serviceName: name });
  t.teardown(() => closeClient(client));

  const answeredBy = new Set<string>();
  for (let i = 0; i < 20; i++) answeredBy.add((await client.echo({ message: `warm ${i}` })).instanceId);
  t.is(answeredBy.size, 2, "both instances answered");

  first.child.kill("SIGKILL");
  let failures = 0;
  const after = new Set<string>();
  for (let i = 0; i < 200; i++) {
    try {
      after.add((await client.echo({ message: `after ${i}` })).instanceId);
    } catch {
      failures += 1;
    }
  }
  t.is(failures, 0, "every call succeeded");
  t.is(after.size, 1, "only the survivor answered");
  await eventually("Consul to stop passing the dead instance", async () => (await passingInstances(name)).length === 1, 30_000);
  second.child.kill("SIGTERM");
  t.is(await exited(second.child), 0);
});
