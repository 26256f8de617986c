// The checkout saga's decisions, with its calls to other services replaced by plain functions that
// answer as scripted, against the order service's real database: the forward path, each
// compensation, re-drives after a crash at any point, racing drivers and the cancellation.
import test from "ava";
import { fromBinary } from "@bufbuild/protobuf";
import { uuidv7 } from "uuidv7";
import { createLogger, type Database } from "@bazaar/platform";
import { OrderCancelledSchema, OrderPlacedSchema, OrderRejectedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { createOrder, loadOrder, type NewOrder } from "../src/orders.ts";
import { createSaga } from "../src/saga.ts";
import type { AuthorizeOutcome, SagaSteps } from "../src/saga-steps.ts";
import { openOrderDatabase } from "./database.ts";

const logger = createLogger({ service: "order-saga-test", level: "silent" });
let database: Database;
let close: (() => Promise<void>) | undefined;

test.before(async () => {
  ({ database, close } = await openOrderDatabase("order-saga"));
});

test.after.always(() => close?.());

type Call = [string, ...unknown[]];

/** Steps that answer the happy path unless told otherwise, recording every call. */
function scripted(overrides: Partial<SagaSteps> = {}): SagaSteps & { calls: Call[]; named(step: string): Call[] } {
  const calls: Call[] = [];
  const base: SagaSteps = {
    reserveStock: async () => ({ kind: "reserved", reservationId: reservationFor.id, state: "active" }),
    authorize: async () => ({ kind: "authorized" }),
    capture: async () => "captured",
    commit: async () => "committed",
    voidPayment: async () => "voided",
    payment: async () => ({ captured: 0n, refunded: 0n }),
    refund: async () => undefined,
    release: async () => "released",
    restock: async () => undefined,
    completeCart: async () => "completed",
    redeemPromotions: async () => ({ kind: "redeemed" }),
    releasePromotions: async () => undefined,
  };
  const steps = { ...base, ...overrides };
  const recorded = Object.fromEntries(
    Object.entries(steps).map(([step, fn]) => [
      step,
      (...args: unknown[]) => {
        calls.push([step, ...args.filter((a) => typeof a !== "object")]);
        return (fn as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as SagaSteps;
  return Object.assign(recorded, { calls, named: (step: string) => calls.filter((c) => c[0] === step) });
}

const reservationFor = { id: uuidv7() };

async function pendingOrder(overrides: Partial<NewOrder> = {}): Promise<string> {
  const id = uuidv7();
  await database.transaction((em) =>
    createOrder(
      em,
      {
        id,
        userId: "user-1",
        email: "buyer@example.com",
        cartId: uuidv7(),
        cartTokenHash: undefined,
        currency: "EUR",
        subtotal: 2000n,
        discount: 0n,
        shipping: 500n,
        tax: 475n,
        total: 2975n,
        taxRateBps: 1900,
        shippingAddress: { recipientName: "A B", line1: "Street 1", line2: "", city: "Berlin", region: "", postalCode: "10115", countryCode: "DE", phone: "" },
        shippingOptionId: "standard",
        paymentMethod: "pm_test_ok",
        lines: [{ sku: "SKU-1", productId: "p1", productName: "Thing", options: { size: "M" }, quantity: 2, unitPrice: 1000n, lineTotal: 2000n }],
        ...overrides,
      },
      { scope: "test", key: id, requestHash: "h" },
      // An expired lease, as a crashed driver leaves it.
      0,
    ),
  );
  return id;
}

const sagaWith = (steps: SagaSteps, paymentUnavailableRetries = 2) =>
  createSaga({ database, steps, logger, reservationTtlSeconds: 900, paymentUnavailableRetries, retryDelayMs: 1 });

async function outbox<T extends typeof OrderPlacedSchema | typeof OrderRejectedSchema | typeof OrderCancelledSchema>(schema: T, orderId: string) {
  const rows = await database.em().execute<{ payload: Buffer }[]>("select payload from platform_outbox where type_name = ? order by id", [schema.typeName]);
  return rows.map((row) => fromBinary(schema, row.payload)).filter((event) => event.orderId === orderId);
}

const history = async (id: string) => (await loadOrder(database.em(), id))!.history.map((h) => h.status);

test("the forward path confirms the order, pays it in full, publishes OrderPlaced once and completes the cart", async (t) => {
  const id = await pendingOrder();
  const steps = scripted();
  const order = await sagaWith(steps).drive(id);
  t.is(order.status, "CONFIRMED");
  t.is(order.paymentStatus, "PAID");
  t.is(order.captured, 2975n);
  t.true(order.cartCompleted);
  t.is(order.reservationId, reservationFor.id);
  t.deepEqual(
    steps.calls.map((c) => c[0]),
    ["reserveStock", "authorize", "capture", "commit", "completeCart"],
  );
  const [placed, ...more] = await outbox(OrderPlacedSchema, id);
  t.is(more.length, 0);
  t.is(placed!.total!.amountMinor, 2975n);
  t.deepEqual(
    placed!.lines.map((l) => [l.sku, l.quantity]),
    [["SKU-1", 2]],
  );
  t.deepEqual(await history(id), ["PENDING", "CONFIRMED"]);

  // A second driver afterwards finds nothing to do.
  const again = scripted();
  t.is((await sagaWith(again).drive(id)).status, "CONFIRMED");
  t.deepEqual(again.calls, []);
});

test("out of stock rejects without touching the payment", async (t) => {
  const id = await pendingOrder();
  const steps = scripted({ reserveStock: async () => ({ kind: "out_of_stock" }) });
  const order = await sagaWith(steps).drive(id);
  t.is(order.status, "REJECTED");
  t.is(order.failureReason, "OUT_OF_STOCK");
  t.is(order.captured, 0n);
  t.deepEqual(
    steps.calls.map((c) => c[0]),
    ["reserveStock"],
  );
  const [rejected] = await outbox(OrderRejectedSchema, id);
  t.is(rejected!.reason, "OUT_OF_STOCK");
  t.deepEqual(await history(id), ["PENDING", "REJECTED"]);
});

test("a declined payment releases the reservation and rejects with the gateway's reason", async (t) => {
  const id = await pendingOrder();
  const steps = scripted({ authorize: async () => ({ kind: "declined", reason: "INSUFFICIENT_FUNDS" }), voidPayment: async () => "failed" });
  const order = await sagaWith(steps).drive(id);
  t.is(order.status, "REJECTED");
  t.is(order.failureReason, "INSUFFICIENT_FUNDS");
  t.is(order.paymentStatus, "FAILED");
  t.deepEqual(steps.named("release"), [["release", reservationFor.id]]);
  t.deepEqual(steps.named("capture"), []);
  t.deepEqual(steps.named("completeCart"), [], "the cart stays as it was");
});

test("payment unavailable after the configured retries is not a decline: the order stays PENDING, nothing undone, and a later drive confirms", async (t) => {
  const id = await pendingOrder();
  let outcome: AuthorizeOutcome = { kind: "unavailable", what: "the payment gateway" };
  const steps = scripted({ authorize: async () => outcome });
  const error = await t.throwsAsync(sagaWith(steps, 2).drive(id));
  t.regex(error!.message, /the payment gateway cannot be reached/);
  t.is(steps.named("authorize").length, 3, "one attempt and two retries");
  t.deepEqual(steps.named("voidPayment"), [], "nothing voided");
  t.deepEqual(steps.named("release"), [], "the stock stays held for the order");
  const order = (await loadOrder(database.em(), id))!;
  t.is(order.status, "PENDING");
  t.is(order.compensation, undefined);

  outcome = { kind: "authorized" };
  t.is((await sagaWith(steps).drive(id)).status, "CONFIRMED");
});

test("a capture that cannot reach the payment service leaves the order PENDING for a re-drive, not REJECTED", async (t) => {
  const id = await pendingOrder();
  let capture: "unavailable" | "captured" = "unavailable";
  const steps = scripted({ capture: async () => capture });
  await t.throwsAsync(sagaWith(steps, 1).drive(id), { message: /payment service cannot be reached/ });
  t.is((await loadOrder(database.em(), id))!.status, "PENDING");
  t.deepEqual(steps.named("voidPayment"), []);
  capture = "captured";
  t.is((await sagaWith(steps).drive(id)).status, "CONFIRMED");
});

test("a reservation found expired at a re-drive refunds what was captured and rejects RESERVATION_EXPIRED", async (t) => {
  const id = await pendingOrder();
  const steps = scripted({
    reserveStock: async () => ({ kind: "reserved", reservationId: reservationFor.id, state: "expired" }),
    voidPayment: async () => "captured",
    payment: async () => ({ captured: 2975n, refunded: 0n }),
  });
  const order = await sagaWith(steps).drive(id);
  t.is(order.status, "REJECTED");
  t.is(order.failureReason, "RESERVATION_EXPIRED");
  t.is(order.paymentStatus, "REFUNDED");
  t.is(order.captured, 2975n);
  t.is(order.refunded, 2975n, "no captured money stays on a rejected order");
  t.deepEqual(steps.named("refund"), [["refund", id, "reject", 2975n, "EUR", "checkout rejected: RESERVATION_EXPIRED"]]);
  t.deepEqual(steps.named("authorize"), [], "nothing moves forward past an expired reservation");
});

test("a capture refused after the stock was committed restocks and voids", async (t) => {
  const id = await pendingOrder();
  const steps = scripted({ capture: async () => "refused", release: async () => "committed" });
  const order = await sagaWith(steps).drive(id);
  t.is(order.status, "REJECTED");
  t.is(order.failureReason, "PAYMENT_FAILED");
  t.deepEqual(steps.named("restock"), [["restock", reservationFor.id]]);
  t.is(steps.named("voidPayment").length, 1);
});

test("a commit refused (reservation gone) after the capture refunds and rejects RESERVATION_EXPIRED", async (t) => {
  const id = await pendingOrder();
  const steps = scripted({ commit: async () => "gone", voidPayment: async () => "captured", payment: async () => ({ captured: 2975n, refunded: 0n }) });
  const order = await sagaWith(steps).drive(id);
  t.is(order.failureReason, "RESERVATION_EXPIRED");
  t.is(order.refunded, 2975n);
  t.is(steps.named("refund").length, 1);
});

test("a crash during compensation: the next driver finishes it and never moves forward", async (t) => {
  const id = await pendingOrder();
  const crashing = scripted({
    authorize: async () => ({ kind: "declined", reason: "PAYMENT_DECLINED" }),
    release: async () => {
      throw new Error("inventory went away");
    },
  });
  await t.throwsAsync(sagaWith(crashing).drive(id), { message: "inventory went away" });
  const between = (await loadOrder(database.em(), id))!;
  t.is(between.status, "PENDING");
  t.is(between.compensation, "PAYMENT_DECLINED", "the decision is persisted before compensating");

  const next = scripted();
  const order = await sagaWith(next).drive(id);
  t.is(order.status, "REJECTED");
  t.is(order.failureReason, "PAYMENT_DECLINED");
  t.deepEqual(
    next.calls.map((c) => c[0]),
    ["voidPayment", "release"],
    "no ReserveStock, AuthorizePayment or capture after the decision",
  );
  t.is((await outbox(OrderRejectedSchema, id)).length, 1);
});

test("a crash after the pivot: the re-drive confirms from the same idempotent steps", async (t) => {
  const id = await pendingOrder();
  const crashing = scripted({
    commit: async () => {
      throw new Error("connection reset");
    },
  });
  await t.throwsAsync(sagaWith(crashing).drive(id));
  t.is((await loadOrder(database.em(), id))!.status, "PENDING");
  const order = await sagaWith(scripted({ reserveStock: async () => ({ kind: "reserved", reservationId: reservationFor.id, state: "committed" }) })).drive(id);
  t.is(order.status, "CONFIRMED");
  t.is((await outbox(OrderPlacedSchema, id)).length, 1);
});

test("a payment whose outcome is not known yet leaves the order PENDING until a later drive", async (t) => {
  const id = await pendingOrder();
  let outcome: "pending" | "authorized" = "pending";
  const steps = scripted({ authorize: async () => ({ kind: outcome }) });
  t.is((await sagaWith(steps).drive(id)).status, "PENDING");
  t.deepEqual(steps.named("capture"), []);
  outcome = "authorized";
  t.is((await sagaWith(steps).drive(id)).status, "CONFIRMED");
});

test("a checkout still unfinished after the reservation's ttl is given up: voided, released, RESERVATION_EXPIRED", async (t) => {
  const id = await pendingOrder();
  await database.em().execute("update orders set created_at = clock_timestamp() - interval '16 minutes' where id = ?", [id], "run");
  const steps = scripted({ authorize: async () => ({ kind: "pending" }) });
  const order = await sagaWith(steps).drive(id);
  t.is(order.status, "REJECTED");
  t.is(order.failureReason, "RESERVATION_EXPIRED");
  t.deepEqual(steps.named("authorize"), [], "no authorisation is asked for so late");
  t.deepEqual(
    steps.calls.map((c) => c[0]),
    ["reserveStock", "voidPayment", "release"],
  );
});

test("two drivers racing on one order: one outcome, one OrderPlaced, one history entry", async (t) => {
  const id = await pendingOrder();
  const orders = await Promise.all(Array.from({ length: 4 }, () => sagaWith(scripted()).drive(id)));
  t.true(orders.every((o) => o.status === "CONFIRMED"));
  t.is((await outbox(OrderPlacedSchema, id)).length, 1);
  t.deepEqual(await history(id), ["PENDING", "CONFIRMED"]);
});

test("a confirmation that loses to a compensation decision undoes what its own run did", async (t) => {
  const id = await pendingOrder();
  // Driver A finds the stock gone; driver B, earlier in the race, captured and committed.
  let releaseB!: () => void;
  const bMayConfirm = new Promise<void>((resolve) => (releaseB = resolve));
  const b = scripted({
    commit: async () => {
      await bMayConfirm;
      return "committed";
    },
    voidPayment: async () => "captured",
    payment: async () => ({ captured: 2975n, refunded: 0n }),
    release: async () => "committed",
  });
  const bDrive = sagaWith(b).drive(id);
  const a = scripted({ reserveStock: async () => ({ kind: "reserved", reservationId: reservationFor.id, state: "expired" }) });
  const aOrder = await sagaWith(a).drive(id);
  releaseB();
  const bOrder = await bDrive;
  t.is(aOrder.status, "REJECTED");
  t.is(bOrder.status, "REJECTED");
  t.is(bOrder.refunded, bOrder.captured);
  t.deepEqual(b.named("restock"), [["restock", reservationFor.id]], "B restocks the units it committed");
  t.is((await outbox(OrderPlacedSchema, id)).length, 0);
});

test("a requested cancellation refunds what remains under one refund id, restocks and publishes OrderCancelled", async (t) => {
  const id = await pendingOrder();
  await sagaWith(scripted()).drive(id);
  await database.transaction((em) => em.execute("update orders set cancel_actor = 'customer', cancel_reason = 'changed my mind' where id = ?", [id], "run"));
  const crashing = scripted({
    restock: async () => {
      throw new Error("inventory down");
    },
  });
  await t.throwsAsync(sagaWith(crashing).drive(id));
  const steps = scripted();
  const order = await sagaWith(steps).drive(id);
  t.is(order.status, "CANCELLED");
  t.is(order.refunded, order.captured);
  t.is(order.paymentStatus, "REFUNDED");
  t.deepEqual(crashing.named("refund"), steps.named("refund"), "the re-drive repeats the same refund (same id and amount)");
  t.deepEqual(steps.named("refund"), [["refund", id, "cancel", 2975n, "EUR", "changed my mind"]]);
  const [cancelled] = await outbox(OrderCancelledSchema, id);
  t.is(cancelled!.actor, "customer");
  t.deepEqual(await history(id), ["PENDING", "CONFIRMED", "CANCELLED"]);
});

test("the database refuses captured money on a rejected order", async (t) => {
  const id = await pendingOrder();
  await t.throwsAsync(
    database.transaction((em) =>
      em.execute("update orders set status = 'REJECTED', failure_reason = 'PAYMENT_FAILED', captured = 100, refunded = 0 where id = ?", [id], "run"),
    ),
    { message: /orders_rejected_holds_no_money/ },
  );
});
