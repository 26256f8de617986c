// The launcher behind `npm start`: finds services, starts them, waits until Consul reports them
// healthy, prefixes their logs, and stops them cleanly.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import path from "node:path";
import test from "ava";
import { createSupervisor, discoverServices, isPassing, passingAddress, repositoryRoot, stackSettings, startMesh, startServices } from "../src/index.ts";

const fixtureRoot = fileURLToPath(new URL("fixtures/mesh", import.meta.url));
const { consulAddr } = stackSettings();

test("finds each folder under services/ with a src/main.ts, and nothing else", (t) => {
  t.deepEqual(
    discoverServices(fixtureRoot).map((s) => [s.name, path.relative(fixtureRoot, s.entry)]),
    [
      ["broken", "services/broken/src/main.ts"],
      ["greeter", "services/greeter/src/main.ts"],
    ],
  );
});

test("the repository's own services are all found (the platform library is not one)", (t) => {
  const names = discoverServices(repositoryRoot).map((s) => s.name);
  t.false(names.includes("platform"));
  t.deepEqual(names, [...new Set(names)]);
});

test("starts a service, waits until it is passing in Consul, and stops it without leaving it registered", async (t) => {
  const name = `greeter-${randomUUID().slice(0, 8)}`;
  const lines: string[] = [];
  const supervisor = createSupervisor({ write: (line) => lines.push(line), colour: false });
  t.teardown(() => supervisor.stopAll());
  const greeter = discoverServices(fixtureRoot).find((s) => s.name === "greeter")!;

  const [started] = await startServices([{ ...greeter, name }], {
    supervisor,
    consulAddr,
    env: { CONSUL_HTTP_ADDR: consulAddr, FIXTURE_SERVICE_NAME: name },
  });
  t.true(await isPassing(consulAddr, name));
  t.true(lines.some((line) => /^greeter-\w+ \| greeter listening on \d+$/.test(line)), lines.join("\n"));

  await supervisor.stopAll();
  t.is(started!.exitReason(), "exited with code 0");
  const instances = (await (await fetch(`http://${consulAddr}/v1/health/service/${name}`)).json()) as unknown[];
  t.deepEqual(instances, []);
});

test("a service that exits before it is healthy fails the start at once, naming it and why", async (t) => {
  const supervisor = createSupervisor({ write: () => {}, colour: false });
  t.teardown(() => supervisor.stopAll());
  const broken = discoverServices(fixtureRoot).filter((s) => s.name === "broken");
  const startedAt = Date.now();
  const error = await t.throwsAsync(startServices(broken, { supervisor, consulAddr, env: {}, healthyTimeoutMs: 30_000 }));
  t.is(error!.message, "broken to be healthy in Consul: exited with code 3");
  t.true(Date.now() - startedAt < 30_000, "did not wait for the health timeout");
});

test("the token issuer starts first and every service finds its JWKS through Consul, at no pinned address", async (t) => {
  const prefix = `mesh-${randomUUID().slice(0, 8)}`;
  const lines: string[] = [];
  const supervisor = createSupervisor({ write: (line) => lines.push(line), colour: false });
  t.teardown(() => supervisor.stopAll());
  const root = fileURLToPath(new URL("fixtures/issuer-mesh", import.meta.url));
  const services = discoverServices(root).map((s) => ({ ...s, name: `${prefix}-${s.name}` }));
  const env: Record<string, string> = { CONSUL_HTTP_ADDR: consulAddr, FIXTURE_PREFIX: prefix };
  delete process.env.AUTH_JWKS_URL;

  const started = await startMesh(services, { supervisor, consulAddr, env, tokenIssuer: `${prefix}-issuer` });
  t.is(started[0]!.process.name, `${prefix}-issuer`, "the issuer starts first");
  const said = (role: string) => lines.find((line) => line.startsWith(`${prefix}-${role} | port`)) ?? "";
  for (const role of ["issuer", "verifier"]) {
    t.true(said(role).endsWith(`AUTH_JWKS_URL= AUTH_JWKS_DISCOVERY=true IDENTITY_SERVICE_NAME=${prefix}-issuer`), said(role));
  }
});
