import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { createSupervisor, ensureConsul, freePort, stackSettings } from "@bazaar/stack";
import { registerInConsul } from "../src/registration.ts";
import { eventually } from "../src/testing.ts";
import { silentLogger, startServer } from "./fixtures/serve/start.ts";

const consulAddr = stackSettings().consulAddr;

interface HealthEntry {
  Service: { ID: string; Service: string; Address: string; Port: number; Tags: string[]; Meta: Record<string, string> };
  Checks: { CheckID: string; Status: string; Type: string; ServiceID: string }[];
}

async function instances(addr: string, name: string, passingOnly = false): Promise<HealthEntry[]> {
  const response = await fetch(`http://${addr}/v1/health/service/${name}${passingOnly ? "?passing=true" : ""}`);
  return response.ok ? ((await response.json()) as HealthEntry[]) : [];
}

async function agentKnows(addr: string, id: string): Promise<boolean> {
  try {
    return (await fetch(`http://${addr}/v1/agent/service/${id}`)).status === 200;
  } catch {
    return false;
  }
}

const uniqueName = () => `serve-test-${randomUUID().slice(0, 8)}`;

test("the instance shows up passing through its gRPC health check, with tags, address and port, and is gone after deregister", async (t) => {
  const { port, health } = await startServer(t);
  await health.refresh();
  const name = uniqueName();
  const id = `${name}-1`;
  const registration = await registerInConsul({
    consulAddr,
    name,
    id,
    address: "127.0.0.1",
    port,
    tags: ["version=1.2.3"],
    meta: { version: "1.2.3" },
    checkIntervalMs: 300,
    logger: silentLogger(),
  });
  t.teardown(() => registration.deregister());

  await eventually("passing in Consul", async () => (await instances(consulAddr, name, true)).length === 1);
  const [entry] = await instances(consulAddr, name, true);
  t.is(entry?.Service.ID, id);
  t.is(entry?.Service.Address, "127.0.0.1");
  t.is(entry?.Service.Port, port);
  t.deepEqual(entry?.Service.Tags, ["version=1.2.3"]);
  t.is(entry?.Service.Meta.version, "1.2.3");
  const check = entry?.Checks.find((c) => c.ServiceID === id);
  t.is(check?.Type, "grpc");
  t.is(check?.Status, "passing");

  await registration.deregister();
  t.false(await agentKnows(consulAddr, id));
  t.deepEqual(await instances(consulAddr, name), []);
  await registration.deregister(); // idempotent
});

test("Consul's gRPC check follows the health service: critical while not ready, passing again once ready", async (t) => {
  let ready = true;
  const { port, health } = await startServer(t, { health: { checks: { dependency: () => ready } } });
  await health.refresh();
  const name = uniqueName();
  const registration = await registerInConsul({ consulAddr, name, id: `${name}-1`, address: "127.0.0.1", port, checkIntervalMs: 200 });
  t.teardown(() => registration.deregister());
  await eventually("passing first", async () => (await instances(consulAddr, name, true)).length === 1);

  ready = false;
  await health.refresh();
  await eventually("critical while NOT_SERVING", async () => (await instances(consulAddr, name))[0]?.Checks.some((c) => c.Status === "critical") ?? false);
  t.deepEqual(await instances(consulAddr, name, true), []);

  ready = true;
  await health.refresh();
  await eventually("passing again", async () => (await instances(consulAddr, name, true)).length === 1);
});

test("invalid registration options are refused with a clear error naming each problem", async (t) => {
  const error = await t.throwsAsync(
    registerInConsul({ consulAddr, name: "bad name!", id: "a/b", address: "0.0.0.0", port: 0, checkIntervalMs: -1 }),
  );
  t.regex(error!.message, /name must be letters, digits and dashes/);
  t.regex(error!.message, /id must be non-empty without "\/"/);
  t.regex(error!.message, /address must be one other services can reach/);
  t.regex(error!.message, /port must be an integer in 1\.\.65535/);
  t.regex(error!.message, /checkIntervalMs must be a positive number/);
});

test("an unreachable Consul agent is reported with its address", async (t) => {
  const addr = `127.0.0.1:${await freePort()}`;
  const error = await t.throwsAsync(registerInConsul({ consulAddr: addr, name: "x", id: "x-1", address: "127.0.0.1", port: 1234 }));
  t.true(error!.message.includes(`cannot reach the Consul agent at ${addr}`), error!.message);
});

test("the registration is restored after the Consul agent restarts and forgets it", async (t) => {
  const stateDir = mkdtempSync(path.join(tmpdir(), "bazaar-registration-"));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const settings = { ...stackSettings(), consulAddr: `127.0.0.1:${await freePort()}`, stateDir };
  const supervisor = createSupervisor({ write() {} });
  t.teardown(() => supervisor.stopAll());
  const first = await ensureConsul(settings, supervisor);
  t.truthy(first.process, "a private agent was started");

  const { port, health } = await startServer(t);
  await health.refresh();
  const name = uniqueName();
  const id = `${name}-1`;
  const registration = await registerInConsul({
    consulAddr: settings.consulAddr,
    name,
    id,
    address: "127.0.0.1",
    port,
    checkIntervalMs: 300,
    maxRetryMs: 300,
    logger: silentLogger(),
  });
  t.teardown(() => registration.deregister().catch(() => {}));
  await eventually("passing in Consul", async () => (await instances(settings.consulAddr, name, true)).length === 1, 15_000);

  await first.process!.stop();
  t.false(await agentKnows(settings.consulAddr, id), "the agent is down");
  const second = await ensureConsul(settings, supervisor);
  t.truthy(second.process, "a fresh agent was started on the same address");

  await eventually("registered again on the new agent", () => agentKnows(settings.consulAddr, id), 15_000);
  await eventually("and passing", async () => (await instances(settings.consulAddr, name, true)).length === 1, 15_000);
  await registration.deregister();
  t.false(await agentKnows(settings.consulAddr, id));
});
