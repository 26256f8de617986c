// On a machine where nothing answers at the configured addresses, the stack starts private
// PostgreSQL, NATS and Consul instances — and stopping leaves no process behind.
import { readlinkSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import test from "ava";
import {
  consulAnswers,
  createSupervisor,
  ensureInfrastructure,
  ensurePostgres,
  natsAnswers,
  PrerequisiteError,
  postgresAnswers,
  stackSettings,
} from "../src/index.ts";
import { alive } from "./fixtures/processes.ts";
import { privateStackSettings, scratchState } from "./fixtures/private-stack.ts";


test("starts private PostgreSQL, NATS JetStream and Consul where nothing answers, and stops them all", async (t) => {
  const settings = await privateStackSettings(t);
  const lines: string[] = [];
  const supervisor = createSupervisor({ write: (line) => lines.push(line), colour: false });
  t.teardown(() => supervisor.stopAll());

  const infra = await ensureInfrastructure(settings, supervisor);
  const started = [infra.postgres, infra.nats, infra.consul].map((p) => p.process);
  t.deepEqual(started.map((p) => p?.name), ["postgres", "nats", "consul"]);
  t.true(await postgresAnswers(settings.databaseUrl));
  // The stack's own NATS takes only its users: tools and tests get the admin's.
  t.is(await natsAnswers(settings.natsUrl), "none");
  t.is(await natsAnswers(infra.nats.adminUrl), "jetstream");
  t.true(await consulAnswers(settings.consulAddr));
  const consulCwd = readlinkSync(`/proc/${infra.consul.process!.pid}/cwd`);
  t.deepEqual(infra.env, {
    DATABASE_URL: settings.databaseUrl,
    NATS_URL: infra.nats.adminUrl,
    CONSUL_HTTP_ADDR: settings.consulAddr,
    BAZAAR_ENV: process.env.BAZAAR_ENV ?? "development",
  });

  await supervisor.stopAll();
  for (const p of started) {
    t.truthy(p!.exitReason(), `${p!.name} has exited`);
    t.false(alive(p!.pid), `${p!.name} (pid ${p!.pid}) is gone`);
  }
  t.false(await postgresAnswers(settings.databaseUrl));
  t.is(await natsAnswers(infra.nats.adminUrl), "none");
  t.false(await consulAnswers(settings.consulAddr));
  t.true(lines.some((line) => line.startsWith("postgres | ")), "PostgreSQL's log lines carry its name");
  // The dev agent ran in its own directory under the state dir, not in the repository (whose
  // services/README.md it used to try to load as a service definition).
  t.is(consulCwd, path.join(settings.stateDir, "consul"));
  t.false(lines.some((line) => /Failed decoding service file|README/.test(line)), lines.filter((line) => line.startsWith("consul |")).join("\n"));
});

test("reuses a PostgreSQL that already answers instead of starting one", async (t) => {
  const supervisor = createSupervisor({ write: () => {} });
  const settings = stackSettings();
  const provisioned = await ensurePostgres(settings, supervisor);
  t.is(provisioned.process, undefined);
  t.is(supervisor.processes.length, 0);
});

test("refuses, naming the address, when something that is not PostgreSQL holds the configured port", async (t) => {
  const squatter = net.createServer((socket) => {
    socket.on("error", () => {}); // the probe hangs up abruptly
    socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
  });
  await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
  t.teardown(() => squatter.close());
  const { port } = squatter.address() as net.AddressInfo;
  const supervisor = createSupervisor({ write: () => {} });
  const settings = { ...stackSettings(), stateDir: scratchState(t), databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres` };
  const error = await t.throwsAsync(ensurePostgres(settings, supervisor), { instanceOf: PrerequisiteError });
  t.regex(error!.message, new RegExp(`127\\.0\\.0\\.1:${port}.*DATABASE_URL`));
  t.is(supervisor.processes.length, 0);
});
