// The order service killed with SIGKILL in the middle of 100 checkouts, then restarted on the same
// database: every order ends terminal, the money captured equals the totals of the CONFIRMED orders,
// no stock stays reserved, and clients retrying with their keys get one order per cart. And a restart
// with the same instance identity resumes the orders its predecessor held at once, not when their
// leases run out.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import test from "ava";
import { testEnv } from "@bazaar/platform/testing";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { eventually, failure, guestCart, meshEnv, passing, placeRequest, sellable, startMesh, stockOf, type Mesh } from "./helpers.ts";

const fixture = fileURLToPath(new URL("./fixtures/order-process.ts", import.meta.url));
const CHECKOUTS = 100;

async function jwksServer(m: Mesh, t: { teardown(fn: () => void): void }): Promise<string> {
  const body = JSON.stringify({ keys: [m.signer.publicJwk] });
  const server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(body));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
}

function startOrderProcess(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; address: string; exited: Promise<NodeJS.Signals | null> }> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture], { env, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const address = /^serving (\S+)$/.exec(line)?.[1];
      if (address) resolve({ child, address, exited });
    });
    child.once("exit", (code) => reject(new Error(`the order process exited (${code}) before serving`)));
  });
}

/** The environment of an order service child process in mesh `m`, with `extra` on top. */
async function orderProcessEnv(m: Mesh, t: { teardown(fn: () => void): void }, extra: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  return {
    ...meshEnv,
    AUTH_JWKS_URL: await jwksServer(m, t),
    PORT: "0",
    ORDER_RECOVERY_INTERVAL_MS: "200",
    ORDER_TEST_NAME: m.names.order,
    ORDER_TEST_TOKEN: await m.signer.token({ subject: "order", service: true, expiresIn: "1h" }),
    ORDER_TEST_CART: m.names.cart,
    ORDER_TEST_INVENTORY: m.names.inventory,
    ORDER_TEST_PAYMENT: m.names.payment,
    ...extra,
  };
}

test("SIGKILL in the middle of 100 checkouts, then a restart: every order terminal, captured = Σ confirmed totals, nothing reserved", async (t) => {
  const m = await startMesh(t, { withoutOrder: true });
  const env = await orderProcessEnv(m, t, { ORDER_SAGA_LEASE_MS: "2000" });

  const sku = await sellable(m, { stock: 1000, price: 700 });
  const carts = await Promise.all(Array.from({ length: CHECKOUTS }, (_, i) => guestCart(m, [{ sku, quantity: 1 + (i % 3) }])));
  const requests = carts.map((cart) => ({ ...cart, request: placeRequest(cart.cartId) }));

  const first = await startOrderProcess(env);
  t.teardown(() => void first.child.kill("SIGKILL"));
  await passing(testEnv.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500", m.names.order);
  const client = m.ordersAt(first.address);
  // Ten buyers at a time; the process dies once a third of the orders exist.
  let next = 0;
  const outcomes: string[] = [];
  const buyers = Array.from({ length: 10 }, async () => {
    while (next < requests.length) {
      const { token, request } = requests[next++]!;
      const result = await failure(client.guest(token).placeOrder(request));
      outcomes.push(result.code === undefined ? "ok" : String(result.code));
    }
  });
  await eventually("a third of the orders created", async () => {
    const [row] = await m.sql<{ n: string }>("order", "select count(*) as n from orders");
    return Number(row!.n) >= CHECKOUTS / 3;
  }, 60_000, 5);
  first.child.kill("SIGKILL");
  t.is(await first.exited, "SIGKILL");
  await Promise.all(buyers);
  const [pendingAtCrash] = await m.sql<{ n: string }>("order", "select count(*) as n from orders where status = 'PENDING'");
  t.log(`at the crash: ${outcomes.filter((o) => o === "ok").length} answered, ${pendingAtCrash!.n} orders PENDING`);

  const second = await startOrderProcess(env);
  t.teardown(() => void second.child.kill("SIGKILL"));
  await eventually(
    "every order terminal with its cart completed",
    async () => {
      const [row] = await m.sql<{ n: string }>(
        "order",
        "select count(*) as n from orders where status = 'PENDING' or (status = 'CONFIRMED' and not cart_completed)",
      );
      return Number(row!.n) === 0;
    },
    90_000,
    200,
  );

  // The money: what payment holds equals the CONFIRMED orders' totals, order by order.
  const confirmed = await m.sql<{ id: string; total: string }>("order", "select id, total from orders where status = 'CONFIRMED'");
  const held = await m.sql<{ order_id: string; net: string }>("payment", "select order_id, captured - refunded as net from payment where captured - refunded > 0");
  const sum = (rows: Record<string, string>[], column: string) => rows.reduce((s, row) => s + BigInt(row[column]!), 0n);
  t.is(sum(held, "net"), sum(confirmed, "total"), "Σ captured = Σ totals of CONFIRMED orders");
  t.deepEqual(held.map((r) => r.order_id).sort(), confirmed.map((r) => r.id).sort(), "money is held for exactly the confirmed orders");
  await eventually("no stock reserved", async () => (await stockOf(m, sku)).reserved === 0, 30_000);

  // Clients retry with their keys against the restarted service: one CONFIRMED order per cart.
  const retried = m.ordersAt(second.address);
  const ids = new Set<string>();
  for (const { token, request } of requests) {
    const { order } = await retried.guest(token).placeOrder(request);
    t.is(order!.status, OrderStatus.CONFIRMED);
    ids.add(order!.id);
  }
  t.is(ids.size, CHECKOUTS);
  const [all] = await m.sql<{ n: string }>("order", "select count(*) as n from orders");
  t.is(Number(all!.n), CHECKOUTS);
  const units = carts.reduce((s, _c, i) => s + 1 + (i % 3), 0);
  await eventually("every sale committed, nothing reserved", async () => {
    const stock = await stockOf(m, sku);
    return stock.reserved === 0 && stock.onHand === 1000 - units;
  }, 30_000);
});

test("a restart with the same INSTANCE_ID resumes the orders its killed predecessor held within seconds, not when the 30 s leases end", async (t) => {
  // pm_test_slow keeps each checkout in its authorisation for a while: the kill finds them mid-saga.
  const m = await startMesh(t, { withoutOrder: true, paymentEnv: { PAYMENT_TEST_SLOW_MS: "2500" } });
  const env = await orderProcessEnv(m, t, { ORDER_SAGA_LEASE_MS: "30000", INSTANCE_ID: `order-crash-${randomUUID()}` });
  const sku = await sellable(m, { stock: 100, price: 500 });
  const carts = await Promise.all(Array.from({ length: 8 }, () => guestCart(m, [{ sku, quantity: 1 }])));

  const first = await startOrderProcess(env);
  t.teardown(() => void first.child.kill("SIGKILL"));
  const client = m.ordersAt(first.address);
  const inFlight = carts.map(({ cartId, token }) => failure(client.guest(token).placeOrder(placeRequest(cartId, { paymentMethod: "pm_test_slow" }))));
  await eventually("orders mid-saga", async () => {
    const [row] = await m.sql<{ n: string }>("order", "select count(*) as n from orders where status = 'PENDING'");
    return Number(row!.n) >= 4;
  }, 60_000, 5);
  first.child.kill("SIGKILL");
  t.is(await first.exited, "SIGKILL");
  await Promise.all(inFlight);
  const held = await m.sql<{ id: string }>("order", "select id from orders where status = 'PENDING' and lease_until > clock_timestamp() + interval '15 seconds'");
  t.true(held.length > 0, "orders whose lease would hold them for many seconds more");

  const second = await startOrderProcess(env);
  t.teardown(() => void second.child.kill("SIGKILL"));
  // Well under the lease: without the take-over these orders would wait for it to end.
  await eventually(
    "every order the killed process held finished",
    async () => {
      const [row] = await m.sql<{ n: string }>("order", "select count(*) as n from orders where status = 'PENDING' or (status = 'CONFIRMED' and not cart_completed)");
      return Number(row!.n) === 0;
    },
    10_000,
    100,
  );
  const rows = await m.sql<{ status: string }>("order", "select status from orders");
  t.true(rows.every((row) => row.status === "CONFIRMED"), rows.map((r) => r.status).join(", "));
});
