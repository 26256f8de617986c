// The prod overlay's NATS users (deploy/overlays/prod/nats.conf) run on a private JetStream server with
// that file's authorization block: each service does what the platform does at start and at work —
// ensure its streams, publish its own events, read the streams it consumes through durable consumers
// and identity's through an ordered one (revocations), send dead letters — and nothing outside it.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { connect, DeliverPolicy, type NatsConnection } from "nats";
import { freePort, repositoryRoot } from "@bazaar/stack";
import { ensureDurable } from "../src/events/durable.ts";
import { ensureStreams } from "../src/events/streams.ts";
import { eventually, natsPermissionOutcome } from "../src/testing.ts";

const users = ["identity", "catalog", "inventory", "cart", "order", "payment", "notification", "shipping", "promotion", "returns"];
const passwordOf = (user: string) => `pw-${user}`;
const encode = (text: string) => new TextEncoder().encode(text);

async function startServer(t: { teardown(fn: () => void): void }): Promise<number> {
  const conf = readFileSync(path.join(repositoryRoot, "deploy/overlays/prod/nats.conf"), "utf8");
  const authorization = conf.slice(conf.indexOf("authorization {"));
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "nats-perms-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, "nats.conf"), `listen: 127.0.0.1:${port}\njetstream { store_dir: "${dir}/js" }\n${authorization}`);
  const env = { ...process.env, ...Object.fromEntries(users.map((u) => [`NATS_PASSWORD_${u.toUpperCase()}`, passwordOf(u)])) };
  const server = spawn("nats-server", ["-c", path.join(dir, "nats.conf")], { stdio: "ignore", env });
  t.teardown(() => server.kill("SIGKILL"));
  await eventually("the private JetStream server to take identity", async () => {
    const nc = await connect({ servers: [`nats://127.0.0.1:${port}`], user: "identity", pass: passwordOf("identity"), reconnect: false }).catch(() => undefined);
    await nc?.close();
    return nc !== undefined;
  }, 30_000);
  return port;
}

const as = async (t: { teardown(fn: () => Promise<void>): void }, port: number, user: string): Promise<NatsConnection> => {
  const nc = await connect({ servers: [`nats://127.0.0.1:${port}`], user, pass: passwordOf(user), reconnect: false });
  t.teardown(() => nc.close());
  return nc;
};

test.serial("each service's NATS user does its own work and is refused outside it", async (t) => {
  const port = await startServer(t);
  const retention = { maxAgeMs: 3_600_000, deadLetterMaxAgeMs: 3_600_000 };

  // identity and order ensure their streams and publish their own events.
  const identity = await as(t, port, "identity");
  await ensureStreams(await identity.jetstreamManager(), ["identity"], retention);
  await identity.jetstream().publish("bazaar.identity.user_disabled", encode("u1"), { msgID: "e1" });
  const order = await as(t, port, "order");
  await ensureStreams(await order.jetstreamManager(), ["order", "payment", "shipping", "identity"], retention);
  await order.jetstream().publish("bazaar.order.order_placed", encode("o1"), { msgID: "e2" });

  // order may not publish another domain's events, nor delete a stream.
  t.is(await natsPermissionOutcome(order.jetstream().publish("bazaar.payment.payment_captured", encode("forged"), { timeout: 2000 })), "refused");
  t.is(await natsPermissionOutcome((await order.jetstreamManager()).streams.delete("BAZAAR_IDENTITY")), "refused");

  // notification reads order's events through its durable consumer, acks, and may send a dead letter.
  const notification = await as(t, port, "notification");
  const jsm = await notification.jetstreamManager();
  await ensureStreams(jsm, ["identity", "order", "inventory", "shipping", "returns"], retention);
  await ensureDurable(jsm, { stream: "BAZAAR_ORDER", durable: "notification-orders", filterSubjects: ["bazaar.order.>"], serverVersion: notification.info?.version, ackWaitMs: 30_000, concurrency: 1 });
  const consumer = await notification.jetstream().consumers.get("BAZAAR_ORDER", "notification-orders");
  const message = await consumer.next({ expires: 5000 });
  t.is(message?.string(), "o1");
  message?.ack();
  await notification.jetstream().publish("bazaar.dlq.notification-orders", encode("dead"), { msgID: "d1" });
  // …but not read payment's stream, which it does not consume.
  t.is(await natsPermissionOutcome(jsm.consumers.add("BAZAAR_PAYMENT", { durable_name: "notification-sneak" })), "refused");

  // cart (no events of its own) reads identity's stream for revocations through an ordered consumer, as the revocation feed does.
  const cart = await as(t, port, "cart");
  // The feed ensures identity's stream first, and ensureStreams the dead letters' with it (a mesh run once saw this refused).
  await ensureStreams(await cart.jetstreamManager(), ["identity"], retention);
  const feed = await cart.jetstream().consumers.get("BAZAAR_IDENTITY", { filterSubjects: "bazaar.identity.>", deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(Date.now() - 600_000).toISOString() });
  t.is((await feed.next({ expires: 5000 }))?.string(), "u1");
  t.is(await natsPermissionOutcome(cart.jetstream().publish("bazaar.order.order_placed", encode("forged"), { timeout: 2000 })), "refused");
  t.is(await natsPermissionOutcome((await cart.jetstreamManager()).consumers.add("BAZAAR_ORDER", { durable_name: "cart-sneak" })), "refused");

  // A client without a user is not let in.
  await t.throwsAsync(connect({ servers: [`nats://127.0.0.1:${port}`], reconnect: false }), { message: /Authorization/i });
});
