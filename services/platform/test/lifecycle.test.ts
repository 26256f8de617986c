import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { repositoryRoot, stackSettings } from "@bazaar/stack";
import { createLifecycle, type ShutdownPhase } from "../src/lifecycle.ts";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { capturingLogger as captureLogs, eventually } from "../src/testing.ts";

const capturingLogger = () => captureLogs("lifecycle-test");

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("shutdown runs the phases in order, the steps of one phase together, and logs every step", async (t) => {
  const { logger, lines } = capturingLogger();
  const lifecycle = createLifecycle({ logger, signals: [] });
  const events: string[] = [];
  const step = (name: string, ms = 0) => async () => {
    events.push(`${name}:start`);
    await tick(ms);
    events.push(`${name}:end`);
  };
  // Registered out of order on purpose.
  lifecycle.onShutdown("close", "database", step("database"));
  lifecycle.onShutdown("drain", "consumers", step("consumers", 40));
  lifecycle.onShutdown("drain", "rpc server", step("rpc", 20));
  lifecycle.onShutdown("flush", "relay", step("relay"));
  lifecycle.onShutdown("deregister", "consul", step("consul"));
  lifecycle.onShutdown("health", "health", step("health"));
  lifecycle.onShutdown("stop-accepting", "listener", step("listener"));

  t.true(await lifecycle.shutdown("test"));
  t.true(lifecycle.shuttingDown);
  t.deepEqual(events, [
    "health:start", "health:end",
    "consul:start", "consul:end",
    "listener:start", "listener:end",
    "consumers:start", "rpc:start", "rpc:end", "consumers:end",
    "relay:start", "relay:end",
    "database:start", "database:end",
  ]);
  const logged = lines.filter((l) => l.msg === "shutdown step").map((l) => `${l.phase as string}/${l.step as string}`);
  t.deepEqual(logged, [
    "health/health", "deregister/consul", "stop-accepting/listener", "drain/consumers", "drain/rpc server", "flush/relay", "close/database",
  ]);
  t.true(lines.some((l) => l.msg === "shutdown complete" && l.ok === true));
  // Running again returns the same result without running the steps again.
  t.true(await lifecycle.shutdown());
  t.is(events.length, 14);
});

test("steps get the grace deadline; a failing step is logged, later phases still run, and the result is false", async (t) => {
  const { logger, lines } = capturingLogger();
  const lifecycle = createLifecycle({ logger, graceMs: 5000, signals: [] });
  let remaining = -1;
  let closed = false;
  lifecycle.onShutdown("deregister", "consul", () => {
    throw new Error("consul unreachable");
  });
  lifecycle.onShutdown("drain", "rpc server", ({ remainingMs, signal }) => {
    remaining = remainingMs();
    t.false(signal.aborted);
  });
  lifecycle.onShutdown("close", "database", () => {
    closed = true;
  });
  t.false(await lifecycle.shutdown());
  t.true(remaining > 0 && remaining <= 5000);
  t.true(closed, "later steps ran");
  const failure = lines.find((l) => l.msg === "shutdown step failed");
  t.is(failure?.step, "consul");
  t.regex(JSON.stringify(failure?.err), /consul unreachable/);
});

test.serial("the first signal runs the shutdown then exits 0; a second signal during it exits 1 at once", async (t) => {
  const { logger } = capturingLogger();
  const exits: number[] = [];
  // SIGUSR2 stands in for SIGTERM so the test process's own handlers stay out of it; the signal tests run serially.
  const lifecycle = createLifecycle({ logger, signals: ["SIGUSR2"], exit: (code) => exits.push(code) });
  t.teardown(() => lifecycle.dispose());
  let release!: () => void;
  const stepDone = new Promise<void>((resolve) => (release = resolve));
  let runs = 0;
  lifecycle.onShutdown("drain", "slow", async () => {
    runs++;
    await stepDone;
  });
  process.emit("SIGUSR2", "SIGUSR2");
  t.true(lifecycle.shuttingDown);
  process.emit("SIGUSR2", "SIGUSR2");
  t.deepEqual(exits, [1], "the second signal forces exit");
  release();
  await eventually("both processes to exit", () => exits.length === 2);
  t.deepEqual(exits, [1, 0]);
  t.is(runs, 1, "the steps ran once");
});

test.serial("a shutdown that outlasts forceExitAfterMs exits 1 anyway", async (t) => {
  const { logger, lines } = capturingLogger();
  const exits: number[] = [];
  const lifecycle = createLifecycle({ logger, signals: ["SIGUSR2"], forceExitAfterMs: 100, exit: (code) => exits.push(code) });
  t.teardown(() => lifecycle.dispose());
  lifecycle.onShutdown("flush", "stuck relay", () => new Promise<void>(() => {}));
  process.emit("SIGUSR2", "SIGUSR2");
  await eventually("the process to exit", () => exits.length === 1, 5000);
  t.deepEqual(exits, [1]);
  t.true(lines.some((l) => l.msg === "shutdown took too long: exiting now"));
});

test("steps with an unknown phase, or added once the shutdown began, are refused", async (t) => {
  const { logger } = capturingLogger();
  const lifecycle = createLifecycle({ logger, signals: [] });
  t.throws(() => lifecycle.onShutdown("later" as ShutdownPhase, "x", () => {}), { message: /unknown phase "later"/ });
  void lifecycle.shutdown();
  t.throws(() => lifecycle.onShutdown("close", "late", () => {}), { message: /once the shutdown has begun/ });
});

/**
 * The fixture service process (its own Consul name), started and ready: its JSON log lines as they come,
 * and its exit code once every line has been read ("close", not "exit").
 */
async function startServiceProcess(t: ExecutionContext, prefix: string, extra: { env?: NodeJS.ProcessEnv; lifeline?: boolean } = {}) {
  const consulAddr = stackSettings().consulAddr;
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  const fixture = fileURLToPath(new URL("./fixtures/serve/service-process.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import=tsx", fixture], {
    cwd: repositoryRoot,
    env: { ...process.env, CONSUL_HTTP_ADDR: consulAddr, SERVICE_NAME: name, ...extra.env },
    stdio: [extra.lifeline ? "pipe" : "ignore", "pipe", "pipe"],
  });
  t.teardown(() => child.kill("SIGKILL"));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const logs: Record<string, unknown>[] = [];
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  });
  await eventually(() => `the service to start (stderr: ${stderr})`, () => logs.some((l) => l.msg === "ready"), 30_000);
  return { child, consulAddr, name, logs, exited };
}

test("SIGTERM to a service process: NOT_SERVING, deregistered from Consul, the in-flight call completes, exit 0", async (t) => {
  const { child, consulAddr, name, logs, exited } = await startServiceProcess(t, "lifecycle-test");
  const port = logs.find((l) => l.msg === "rpc server listening")?.port as number;
  const passing = async () =>
    ((await (await fetch(`http://${consulAddr}/v1/health/service/${name}?passing=true`)).json()) as unknown[]).length === 1;
  await eventually("registered and passing in Consul", passing, 10_000);

  const client = createClient(TestService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
  const waiting = client.wait({ durationMs: 800n });
  await eventually("the call reached the handler", () => logs.some((l) => l.msg === "wait started"));
  child.kill("SIGTERM");

  const response = await waiting;
  t.false(response.aborted, "the in-flight call ran to its end");
  t.is(await exited, 0);
  const known = await fetch(`http://${consulAddr}/v1/agent/service/${name}-1`);
  t.is(known.status, 404, "deregistered");

  const order = logs.map((l) => l.msg);
  const at = (msg: string) => order.indexOf(msg);
  t.true(at("shutting down") >= 0);
  t.true(at("health: NOT_SERVING (shutting down)") > at("shutting down"));
  t.true(at("deregistered from Consul") > at("health: NOT_SERVING (shutting down)"));
  t.true(at("rpc server closing: not accepting, draining in-flight calls") > at("deregistered from Consul"));
  t.true(at("rpc server closed") > at("rpc server closing: not accepting, draining in-flight calls"));
  // The server's last line and the lifecycle's closing lines are written in the same instant and were
  // seen to reach the pipe in either order; what matters is that both are there, after the drain began.
  t.true(at("shutdown complete") > at("rpc server closing: not accepting, draining in-flight calls"));
  t.is(logs.find((l) => l.msg === "rpc server closed")?.abandoned, 0);
});

test("a supervised service process whose supervisor is gone (its stdin lifeline ends) shuts down in order and exits 0", async (t) => {
  const { child, consulAddr, name, logs, exited } = await startServiceProcess(t, "lifeline-test", { env: { BAZAAR_LIFELINE: "stdin" }, lifeline: true });
  // What the supervisor's death does to the pipe it held.
  child.stdin!.end();
  t.is(await exited, 0);
  const order = logs.map((l) => l.msg);
  t.true(order.includes("supervisor gone (stdin closed): shutting down"), order.join(" | "));
  t.true(order.indexOf("deregistered from Consul") > order.indexOf("supervisor gone (stdin closed): shutting down"));
  t.is((await fetch(`http://${consulAddr}/v1/agent/service/${name}-1`)).status, 404, "deregistered");
});
