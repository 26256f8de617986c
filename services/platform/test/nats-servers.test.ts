// NATS_URL carries a service's NATS user (nats://cart:secret@nats:4222), as the prod overlay's
// per-service users need: nats.js ignores a URL's user info, so the platform hands it over itself.
// A private nats-server requiring a password, started here (the machine's shared NATS has no users).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { connect } from "nats";
import { freePort } from "@bazaar/stack";
import { natsServers } from "../src/events/nats-servers.ts";
import { eventually } from "../src/testing.ts";

test("credentials come out of the URLs; the servers are listed without them", (t) => {
  t.deepEqual(natsServers("nats://127.0.0.1:4222"), { servers: ["nats://127.0.0.1:4222"] });
  t.deepEqual(natsServers("nats://cart:s%40cret@nats-0:4222, nats://cart:s%40cret@nats-1:4222"), {
    servers: ["nats://nats-0:4222", "nats://nats-1:4222"],
    user: "cart",
    pass: "s@cret",
  });
});

test("URLs that disagree about the user are refused with a clear message", (t) => {
  t.throws(() => natsServers("nats://cart:a@n0:4222,nats://order:b@n1:4222"), { message: /same user and password/ });
  t.throws(() => natsServers("nats://cart:a@n0:4222,nats://n1:4222"), { message: /same user and password/ });
});

test("a server that requires a user accepts the URL's credentials, and refuses a URL without them", async (t) => {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "nats-auth-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = path.join(dir, "nats.conf");
  writeFileSync(config, `listen: 127.0.0.1:${port}\nauthorization { users = [ { user: cart, password: "s3cret" } ] }\n`);
  const server = spawn("nats-server", ["-c", config], { stdio: "ignore" });
  t.teardown(() => server.kill("SIGKILL"));
  const url = `nats://cart:s3cret@127.0.0.1:${port}`;
  const nc = await eventually("the private NATS to accept the URL's user", async () => connect({ ...natsServers(url), reconnect: false }).catch(() => undefined), 30_000);
  t.teardown(() => nc.close());
  const echoed = nc.subscribe("hello", { max: 1 });
  nc.publish("hello", new TextEncoder().encode("hi"));
  for await (const message of echoed) t.is(message.string(), "hi");
  await t.throwsAsync(connect({ servers: [`nats://127.0.0.1:${port}`], reconnect: false }), { message: /Authorization/i });
  await t.throwsAsync(connect({ ...natsServers(`nats://cart:wrong@127.0.0.1:${port}`), reconnect: false }), { message: /Authorization/i });
});
