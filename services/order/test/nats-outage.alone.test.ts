// Issue 12, point 4: NATS away is not a reason to stop selling. The whole checkout mesh runs on a
// private nats-server, which is stopped for 30 s while 100 signed-in buyers check out a few at a time:
// every checkout is CONFIRMED, every service stays ready and passing in Consul (its /readyz naming
// `nats` as degraded), and once NATS is back the outboxes drain — each OrderPlaced reaches
// BAZAAR_ORDER once, and catalog's consumer of it (verified purchases) applies each once.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { connect } from "nats";
import { natsServers } from "@bazaar/platform";
import { fromBinary } from "@bufbuild/protobuf";
import { createSupervisor, ensureNats, freePort, stackSettings } from "@bazaar/stack";
import { OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { ConnectError } from "@connectrpc/connect";
import { Code, eventually, placeRequest, sellable, startMesh, stockOf, userCart, type MeshService } from "./helpers.ts";

const CHECKOUTS = 100;
const AT_A_TIME = 4;
const OUTAGE_MS = 30_000;
const services: MeshService[] = ["catalog", "inventory", "cart", "payment", "order"];
// Cart has no events of its own (no outbox, no nats readiness check): NATS only feeds its revocations.
const withEvents: MeshService[] = ["catalog", "inventory", "payment", "order"];
const consulAddr = process.env.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500";

interface Sample {
  at: number;
  /** Services without a passing instance in Consul. */
  notPassing: string[];
  /** Services whose /readyz is not 200. */
  notReady: string[];
  /** Services whose /readyz names nats as degraded. */
  degraded: string[];
}

test("NATS stopped for 30 s during 100 checkouts: all CONFIRMED, every service passing in Consul, then each OrderPlaced on the stream and applied once", async (t) => {
  t.timeout(6 * 60_000);
  const stateDir = mkdtempSync(path.join(tmpdir(), "bazaar-order-nats-"));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const supervisor = createSupervisor({ write: () => {} });
  // Registered before the mesh: teardowns run in reverse, so NATS stops after the services.
  t.teardown(() => supervisor.stopAll());
  const settings = { ...stackSettings(), natsUrl: `nats://127.0.0.1:${await freePort()}`, stateDir };
  const nats = await ensureNats(settings, supervisor);
  t.truthy(nats.process, "a private nats-server, never the machine's");

  const m = await startMesh(t, { natsUrl: nats.adminUrl });
  const sku = await sellable(m, { stock: CHECKOUTS + 20, price: 1500 });
  const buyers = Array.from({ length: CHECKOUTS }, () => randomUUID());
  const carts: string[] = [];
  for (let i = 0; i < CHECKOUTS; i += 10) {
    carts.push(...(await Promise.all(buyers.slice(i, i + 10).map((userId) => userCart(m, userId, [{ sku, quantity: 1 }])))));
  }
  const clients = await Promise.all(buyers.map((userId) => m.orders.user(userId)));
  await Promise.all(services.map((name) => passingIn(consulAddr, m.names[name])));

  // Consul and every /readyz, sampled about every half second from just before the stop until every event is delivered.
  const samples: Sample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(await sample(m.names, (name) => m.service(name).address));
      await sleep(500);
    }
  })();
  t.teardown(async () => {
    sampling = false;
    await sampler;
  });

  const stoppedAt = Date.now();
  await nats.process!.stop();

  // 25 rounds of 4, paced over the outage (the pacing is the scenario's load, not a synchronisation).
  const answers: { status?: OrderStatus; orderId?: string; error?: string }[] = [];
  const roundMs = OUTAGE_MS / (CHECKOUTS / AT_A_TIME);
  for (let round = 0; round * AT_A_TIME < CHECKOUTS; round++) {
    const wait = stoppedAt + round * roundMs - Date.now();
    if (wait > 0) await sleep(wait);
    const indices = Array.from({ length: AT_A_TIME }, (_, k) => round * AT_A_TIME + k);
    answers.push(
      ...(await Promise.all(
        indices.map(async (i) => {
          try {
            const { order } = await clients[i]!.placeOrder(placeRequest(carts[i]!), { timeoutMs: 20_000 });
            return { status: order!.status, orderId: order!.id };
          } catch (error) {
            const e = ConnectError.from(error);
            return { error: `${Code[e.code]}: ${e.rawMessage}` };
          }
        }),
      )),
    );
  }
  // The outage lasts 30 s at least, and until every checkout has answered.
  const left = stoppedAt + OUTAGE_MS - Date.now();
  if (left > 0) await sleep(left);
  const [buffered] = await m.sql<{ n: number }>("order", "select count(*)::int as n from platform_outbox where sent_at is null and subject = 'bazaar.order.order_placed'");
  const outageSamples = samples.length;
  await ensureNats(settings, supervisor); // same port, same store: the streams and durables come back

  const confirmed = answers.filter((a) => a.status === OrderStatus.CONFIRMED).map((a) => a.orderId!);
  const failures = answers.filter((a) => a.status !== OrderStatus.CONFIRMED).map((a) => a.error ?? `status ${OrderStatus[a.status!]}`);
  t.is(confirmed.length, CHECKOUTS, `every checkout CONFIRMED while NATS was down; the others: ${summary(failures)}`);
  t.is(buffered!.n, confirmed.length, "the OrderPlaced events waited in the outbox while NATS was down");

  // Once NATS is back: every service's outbox drains and catalog applies each OrderPlaced.
  await eventually(
    "every outbox drained and every OrderPlaced applied by catalog",
    async () => {
      const unsent = await Promise.all(withEvents.map((s) => m.sql<{ n: number }>(s, "select count(*)::int as n from platform_outbox where sent_at is null")));
      const [purchases] = await m.sql<{ n: number }>("catalog", "select count(*)::int as n from purchase");
      return unsent.every(([row]) => row!.n === 0) && purchases!.n >= confirmed.length;
    },
    90_000,
    250,
  );
  sampling = false;
  await sampler;

  // Ready and passing throughout: the outage, the reconnection and the catching up.
  const notPassing = samples.filter((s) => s.notPassing.length > 0);
  const notReady = samples.filter((s) => s.notReady.length > 0);
  t.true(outageSamples >= 10, `Consul and /readyz sampled through the outage (${outageSamples} samples)`);
  t.deepEqual(notPassing.map(describe), [], "every service passing in Consul in every sample");
  t.deepEqual(notReady.map(describe), [], "every /readyz 200 in every sample");
  t.true(
    samples.slice(0, outageSamples).some((s) => withEvents.every((name) => s.degraded.includes(name))),
    "while NATS was down the /readyz of every service with events named nats as degraded",
  );

  // The stream: each order's OrderPlaced once (the relay's retries are deduplicated by Nats-Msg-Id).
  const placed = await orderPlacedOnStream(nats.adminUrl);
  t.is(placed.length, confirmed.length, "one message per order in BAZAAR_ORDER");
  t.is(new Set(placed.map((p) => p.msgId)).size, placed.length, "no Nats-Msg-Id twice");
  t.true(placed.every((p) => p.msgId === p.eventId), "Nats-Msg-Id = event_id");
  t.deepEqual(sorted(placed.map((p) => p.orderId)), sorted(confirmed), "exactly the confirmed orders, each once");

  // The consumer: one inbox row and one purchase per order, the handler applied once per event.
  const catalogDurable = `${m.names.catalog}-purchases`;
  const inbox = await m.sql<{ event_id: string }>("catalog", "select event_id from platform_inbox where consumer = $1 and subject = 'bazaar.order.order_placed'", [catalogDurable]);
  t.deepEqual(sorted(inbox.map((r) => r.event_id)), sorted(placed.map((p) => p.eventId)));
  const purchases = await m.sql<{ order_id: string }>("catalog", "select order_id from purchase");
  t.is(purchases.length, confirmed.length);
  t.deepEqual(sorted(purchases.map((r) => r.order_id)), sorted(confirmed));
  // The counter moves just after the commit the rows above come from.
  const applied = await eventually("catalog's handler count", async () => {
    const n = await handled(m.service("catalog").address, catalogDurable, "applied");
    return n >= confirmed.length && n;
  }, 10_000);
  t.is(applied, confirmed.length, "catalog ran its OrderPlaced handler once per event");

  // And the sale itself: every unit sold once, nothing left reserved, one capture per order.
  const stock = await stockOf(m, sku);
  t.deepEqual(stock, { onHand: 20, reserved: 0 });
  const [captured] = await m.sql<{ n: number }>("payment", "select count(*)::int as n from payment where captured > 0");
  t.is(captured!.n, confirmed.length);
});

async function passingIn(consul: string, name: string): Promise<void> {
  await eventually(`${name} passing in Consul`, async () => (await passingCount(consul, name)) > 0, 30_000, 100);
}

async function passingCount(consul: string, name: string): Promise<number> {
  const response = await fetch(`http://${consul}/v1/health/service/${name}?passing=true`, { signal: AbortSignal.timeout(5000) });
  return response.ok ? ((await response.json()) as unknown[]).length : 0;
}

async function sample(names: Record<MeshService, string>, addressOf: (name: MeshService) => string): Promise<Sample> {
  const at = Date.now();
  const results = await Promise.all(
    services.map(async (name) => {
      const passing = await passingCount(consulAddr, names[name]).catch(() => 0);
      const readyz = await fetch(`http://${addressOf(name)}/readyz`, { signal: AbortSignal.timeout(5000) })
        .then(async (r) => ({ status: r.status, body: (await r.json()) as { degraded?: string[] } }))
        .catch(() => ({ status: 0, body: {} as { degraded?: string[] } }));
      return { name, passing: passing > 0, ready: readyz.status === 200, degraded: readyz.body.degraded?.includes("nats") ?? false };
    }),
  );
  return {
    at,
    notPassing: results.filter((r) => !r.passing).map((r) => r.name),
    notReady: results.filter((r) => !r.ready).map((r) => r.name),
    degraded: results.filter((r) => r.degraded).map((r) => r.name),
  };
}

const sorted = (values: string[]) => [...values].sort();

const describe = (s: Sample) => `${new Date(s.at).toISOString()} not passing: ${s.notPassing.join(",") || "-"}; not ready: ${s.notReady.join(",") || "-"}`;

/** "n × message" per distinct failure. */
function summary(failures: string[]): string {
  const counts = new Map<string, number>();
  for (const f of failures) counts.set(f, (counts.get(f) ?? 0) + 1);
  return [...counts].map(([message, n]) => `${n} × ${message}`).join("; ") || "none";
}

/** Every OrderPlaced in BAZAAR_ORDER of the private NATS, read message by message. */
async function orderPlacedOnStream(url: string): Promise<{ msgId: string; eventId: string; orderId: string }[]> {
  const nc = await connect(natsServers(url));
  try {
    const jsm = await nc.jetstreamManager();
    const { state } = await jsm.streams.info("BAZAAR_ORDER");
    const found: { msgId: string; eventId: string; orderId: string }[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const message = await jsm.streams.getMessage("BAZAAR_ORDER", { seq });
      if (message.subject !== "bazaar.order.order_placed") continue;
      const event = fromBinary(OrderPlacedSchema, message.data);
      found.push({ msgId: message.header.get("Nats-Msg-Id"), eventId: event.eventId, orderId: event.orderId });
    }
    return found;
  } finally {
    await nc.close();
  }
}

/** bazaar_events_handled_total of one consumer's OrderPlaced with `outcome`, from a service's /metrics. */
async function handled(address: string, durable: string, outcome: string): Promise<number> {
  const text = await (await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith("bazaar_events_handled_total{") && l.includes(`consumer="${durable}"`) && l.includes('type="bazaar.order.v1.OrderPlaced"') && l.includes(`outcome="${outcome}"`));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
}
