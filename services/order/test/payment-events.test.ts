// Payment outcomes that arrive as events (a slow gateway, a webhook) drive a PENDING order on; a
// PaymentFailed delivered several times releases the stock once.
import test from "ava";
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { connect } from "nats";
import { natsServers } from "@bazaar/platform";
import { uuidv7 } from "uuidv7";
import { publishEvent, testEnv } from "@bazaar/platform/testing";
import { StockReleasedSchema } from "@bazaar/contracts/bazaar/inventory/v1/events_pb";
import { OrderRejectedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { PaymentAuthorizedSchema, PaymentFailedSchema } from "@bazaar/contracts/bazaar/payment/v1/events_pb";
import { Code, eventually, failure, guestCart, meshPerFile, placeRequest, sellable, stockOf, type Mesh } from "./helpers.ts";

// No recovery scans during the tests: only the events may drive the pending orders on.
const mesh = meshPerFile(test, { orderEnv: { ORDER_RECOVERY_INTERVAL_MS: "600000" } });

// A new durable reads the payment stream from its start (events of earlier runs included): the tests
// wait until it has caught up, so the events published here are handled within the request's wait.
let caughtUp: Promise<unknown> | undefined;
function consumerCaughtUp(m: Mesh) {
  caughtUp ??= (async () => {
    const nats = await connect(natsServers(testEnv.NATS_URL ?? "nats://127.0.0.1:4222"));
    try {
      const jsm = await nats.jetstreamManager();
      await eventually(
        "the payment-outcome consumer caught up",
        async () => {
          const info = await jsm.consumers.info("BAZAAR_PAYMENT", `${m.names.order}-payment-outcomes`);
          return info.num_pending === 0 && info.num_ack_pending === 0;
        },
        100_000,
        200,
      );
    } finally {
      await nats.close();
    }
  })();
  return caughtUp;
}


/** An order left PENDING with its stock reserved: its first authorisation answer is "not known yet". */
async function pendingCheckout(m: Mesh, paymentMethod: string) {
  await consumerCaughtUp(m);
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 2 }]);
  let first = true;
  m.hooks.set(cartId, {
    authorize: async () => {
      if (!first) return undefined; // later drives ask the real payment service
      first = false;
      return { kind: "pending" };
    },
  });
  const placing = m.orders.guest(token).placeOrder(placeRequest(cartId, { paymentMethod }));
  placing.catch(() => undefined);
  const orderId = await eventually("the pending order", async () => {
    const [row] = await m.sql<{ id: string }>("order", "select id from orders where cart_id = $1 and status = 'PENDING'", [cartId]);
    return row?.id;
  });
  await eventually("its stock reserved", async () => (await stockOf(m, sku)).reserved === 2);
  await eventually("the request to wait for the outcome", async () => {
    const [row] = await m.sql<{ free: boolean }>("order", "select lease_until <= clock_timestamp() as free from orders where id = $1", [orderId]);
    return row?.free;
  });
  return { sku, orderId, placing };
}

test("PaymentFailed delivered three times (two ids, one redelivery) rejects the order and releases its stock once", async (t) => {
  const m = mesh();
  const { sku, orderId, placing } = await pendingCheckout(m, "pm_test_declined");
  const failed = (eventId: string) =>
    create(PaymentFailedSchema, { eventId, occurredAt: timestampNow(), paymentId: uuidv7(), orderId, failureCode: "PAYMENT_DECLINED", failureMessage: "declined later" });
  const firstId = uuidv7();
  const secondId = uuidv7();
  await publishEvent(PaymentFailedSchema, failed(firstId));
  await publishEvent(PaymentFailedSchema, failed(secondId));
  await publishEvent(PaymentFailedSchema, failed(firstId), `${firstId}-again`);

  const result = await failure(placing);
  t.is(result.code, Code.FailedPrecondition);
  t.is(result.reason, "PAYMENT_DECLINED");
  await eventually("all three deliveries handled", async () => {
    const rows = await m.sql<{ event_id: string }>("order", "select event_id from platform_inbox where event_id = any($1)", [[firstId, secondId]]);
    return rows.length === 2;
  });
  t.deepEqual(await stockOf(m, sku), { onHand: 10, reserved: 0 });
  const released = (await m.sql<{ payload: Buffer }>("inventory", "select payload from platform_outbox where type_name = $1", [StockReleasedSchema.typeName]))
    .map((row) => fromBinary(StockReleasedSchema, row.payload))
    .filter((event) => event.reference === orderId);
  t.is(released.length, 1, "one release");
  const rejected = (await m.sql<{ payload: Buffer }>("order", "select payload from platform_outbox where type_name = $1", [OrderRejectedSchema.typeName]))
    .map((row) => fromBinary(OrderRejectedSchema, row.payload))
    .filter((event) => event.orderId === orderId);
  t.is(rejected.length, 1, "one OrderRejected");
  const { order } = await m.orders.admin.getOrder({ orderId });
  t.deepEqual(
    order!.history.map((h) => h.status),
    [OrderStatus.PENDING, OrderStatus.REJECTED],
  );
});

test("a PaymentAuthorized reported later drives the waiting checkout to CONFIRMED", async (t) => {
  const m = mesh();
  const { sku, orderId, placing } = await pendingCheckout(m, "pm_test_ok");
  const eventId = uuidv7();
  await publishEvent(
    PaymentAuthorizedSchema,
    create(PaymentAuthorizedSchema, { eventId, occurredAt: timestampNow(), paymentId: uuidv7(), orderId, amount: { amountMinor: 1n, currencyCode: "USD" } }),
  );
  const { order } = await placing;
  t.is(order!.id, orderId);
  t.is(order!.status, OrderStatus.CONFIRMED);
  t.deepEqual(await stockOf(m, sku), { onHand: 8, reserved: 0 });
});
