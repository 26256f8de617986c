// A payment service restart is not a declined card (issue 12, 7d): checkouts placed while it is
// stopped are left PENDING (the client is told to retry with its key), and once it is back the
// recovery driver confirms them; none is REJECTED PAYMENT_FAILED.
import test from "ava";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { Code, eventually, failure, guestCart, placeRequest, sellable, startMesh, stockOf } from "./helpers.ts";

const CHECKOUTS = 4;

test("checkouts placed while the payment service is stopped end CONFIRMED once it is back; none REJECTED PAYMENT_FAILED", async (t) => {
  const m = await startMesh(t);
  const sku = await sellable(m, { stock: 20, price: 900 });
  const carts = await Promise.all(Array.from({ length: CHECKOUTS }, () => guestCart(m, [{ sku, quantity: 1 }])));
  const requests = carts.map((cart) => ({ ...cart, request: placeRequest(cart.cartId) }));

  const outage = await m.outage("payment");
  // A client that waits a few seconds for its answer, as a storefront does.
  const answers = await Promise.all(requests.map(({ token, request }) => failure(m.orders.guest(token).placeOrder(request, { timeoutMs: 5000 }))));
  for (const answer of answers) {
    t.true([Code.Unavailable, Code.DeadlineExceeded, Code.Aborted].includes(answer.code!), `retryable, not a refusal: ${answer.code && Code[answer.code]} ${answer.message}`);
  }
  const whileDown = await m.sql<{ status: string }>("order", "select status from orders");
  t.is(whileDown.length, CHECKOUTS);
  t.true(
    whileDown.every((row) => row.status === "PENDING"),
    `every order waits for the payment: ${whileDown.map((r) => r.status).join(", ")}`,
  );

  await outage.end();
  await eventually(
    "every order confirmed by the recovery driver",
    async () => {
      const rows = await m.sql<{ status: string }>("order", "select status from orders");
      return rows.length === CHECKOUTS && rows.every((row) => row.status === "CONFIRMED");
    },
    90_000,
    250,
  );
  const [rejected] = await m.sql<{ n: string }>("order", "select count(*) as n from orders where status = 'REJECTED'");
  t.is(Number(rejected!.n), 0);

  // The clients retry with their keys: their confirmed order, one per cart.
  for (const { token, request } of requests) {
    const { order } = await m.orders.guest(token).placeOrder(request);
    t.is(order!.status, OrderStatus.CONFIRMED);
  }
  const [orders] = await m.sql<{ n: string }>("order", "select count(*) as n from orders");
  t.is(Number(orders!.n), CHECKOUTS);
  const [captured] = await m.sql<{ n: string; sum: string }>("payment", "select count(*) as n, coalesce(sum(captured), 0) as sum from payment where captured > 0");
  t.is(Number(captured!.n), CHECKOUTS, "one capture per order");
  await eventually("every unit sold, nothing reserved", async () => {
    const stock = await stockOf(m, sku);
    return stock.onHand === 20 - CHECKOUTS && stock.reserved === 0;
  }, 30_000);
});
