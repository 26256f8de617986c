// Reservations through a real server over gRPC: no oversell under contention, idempotency per
// reference, all-or-nothing lines, commit, release, automatic expiry, and the events they publish.
import { Code } from "@connectrpc/connect";
import test from "ava";
import { BackInStockSchema, OutOfStockSchema, ReleaseReason, StockCommittedSchema, StockReleasedSchema, StockReservedSchema } from "@bazaar/contracts/bazaar/inventory/v1/events_pb";
import { ReservationState } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import type { Sweep } from "@bazaar/platform";
import { eventually, failure, levelOf, startInventory, unique, type Harness, uniqueSku } from "./helpers.ts";

let inventory: Harness;
test.before(async () => {
  inventory = await startInventory();
});
test.after.always(async () => {
  await inventory?.stop();
});

async function stocked(units: number, location = "") {
  const sku = uniqueSku();
  await inventory.admin.receiveStock({ sku, location, quantity: BigInt(units) });
  return sku;
}

const one = (sku: string, quantity = 1, location = "") => [{ sku, location, quantity: BigInt(quantity) }];

test("200 concurrent reservations for the last 50 units reserve exactly 50 and refuse the rest as out of stock", async (t) => {
  const initial = 100;
  const sku = await stocked(initial);
  // Sell 50 first, so the race is for the last 50 units.
  const early = await inventory.checkout.reserveStock({ reference: unique("order"), lines: one(sku, 50) });
  await inventory.checkout.commitReservation({ reservationId: early.reservation!.id });

  const outcomes = await Promise.all(
    Array.from({ length: 200 }, () =>
      inventory.checkout.reserveStock({ reference: unique("order"), lines: one(sku) }).then(
        (response) => ({ ok: true as const, id: response.reservation!.id }),
        async (error: unknown) => ({ ok: false as const, failure: await failure(Promise.reject(error)) }),
      ),
    ),
  );
  const reserved = outcomes.flatMap((o) => (o.ok ? [o.id] : []));
  const refused = outcomes.flatMap((o) => (o.ok ? [] : [o.failure]));
  t.is(reserved.length, 50);
  t.is(refused.length, 150);
  t.true(refused.every((f) => f.code === Code.FailedPrecondition && f.reason === "OUT_OF_STOCK"), JSON.stringify(refused.find((f) => f.code !== Code.FailedPrecondition)));

  // Commit 20 of the winners, release 10; 20 stay open.
  await Promise.all(reserved.slice(0, 20).map((reservationId) => inventory.checkout.commitReservation({ reservationId })));
  await Promise.all(reserved.slice(20, 30).map((reservationId) => inventory.checkout.releaseReservation({ reservationId })));

  const committed = 50 + 20;
  const level = await levelOf(inventory, sku);
  t.is(level?.onHand, initial - committed);
  const [open] = await inventory.sql<{ total: string }>(
    "select coalesce(sum(l.quantity), 0) as total from reservation_line l join reservation r on r.id = l.reservation_id where l.sku = $1 and r.state = 'active'",
    [sku],
  );
  t.is(level?.reserved, Number(open!.total));
  t.is(level?.reserved, 20);
  const { stock } = await inventory.admin.getStockLevel({ sku });
  t.is(stock?.available, BigInt(initial - committed - 20));
});

test("ReserveStock is idempotent per reference: the same lines return the same reservation and hold stock once", async (t) => {
  const sku = await stocked(10);
  const reference = unique("order");
  const first = await inventory.checkout.reserveStock({ reference, lines: one(sku, 3) });
  const again = await inventory.checkout.reserveStock({ reference, lines: one(sku, 3) });
  t.is(again.reservation?.id, first.reservation?.id);
  t.is(again.reservation?.state, ReservationState.ACTIVE);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 10, reserved: 3 });

  const different = await failure(inventory.checkout.reserveStock({ reference, lines: one(sku, 4) }));
  t.is(different.code, Code.AlreadyExists);
  t.is(different.reason, "REFERENCE_IN_USE");
  t.deepEqual(await levelOf(inventory, sku), { onHand: 10, reserved: 3 });
  t.is((await inventory.outbox(StockReservedSchema)).filter((e) => e.reference === reference).length, 1);
});

test("concurrent ReserveStock calls with one reference make one reservation", async (t) => {
  const sku = await stocked(100);
  const reference = unique("order");
  const responses = await Promise.all(Array.from({ length: 12 }, () => inventory.checkout.reserveStock({ reference, lines: one(sku, 2) })));
  t.is(new Set(responses.map((r) => r.reservation?.id)).size, 1);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 100, reserved: 2 });
});

test("a repeated ReserveStock after the reservation was committed returns the committed reservation without holding more", async (t) => {
  const sku = await stocked(5);
  const reference = unique("order");
  const { reservation } = await inventory.checkout.reserveStock({ reference, lines: one(sku, 2) });
  await inventory.checkout.commitReservation({ reservationId: reservation!.id });
  const again = await inventory.checkout.reserveStock({ reference, lines: one(sku, 2) });
  t.is(again.reservation?.id, reservation!.id);
  t.is(again.reservation?.state, ReservationState.COMMITTED);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 3, reserved: 0 });
});

test("a reservation of several lines holds all of them or none", async (t) => {
  const plenty = await stocked(10);
  const scarce = await stocked(1);
  const refused = await failure(
    inventory.checkout.reserveStock({ reference: unique("order"), lines: [...one(plenty, 5), ...one(scarce, 2)] }),
  );
  t.is(refused.code, Code.FailedPrecondition);
  t.regex(refused.message, new RegExp(scarce));
  t.deepEqual(await levelOf(inventory, plenty), { onHand: 10, reserved: 0 });
  t.deepEqual(await levelOf(inventory, scarce), { onHand: 1, reserved: 0 });

  const { reservation } = await inventory.checkout.reserveStock({ reference: unique("order"), lines: [...one(scarce, 1), ...one(plenty, 5)] });
  t.deepEqual(
    reservation?.lines.map((l) => [l.sku, l.quantity]),
    [
      [plenty, 5n],
      [scarce, 1n],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );
  t.deepEqual(await levelOf(inventory, plenty), { onHand: 10, reserved: 5 });
  t.deepEqual(await levelOf(inventory, scarce), { onHand: 1, reserved: 1 });
});

test("reservations naming the same SKUs in opposite orders, concurrently, never deadlock", async (t) => {
  const a = await stocked(1000);
  const b = await stocked(1000);
  const outcomes = await Promise.allSettled(
    Array.from({ length: 60 }, (_, i) =>
      inventory.checkout.reserveStock({ reference: unique("order"), lines: i % 2 ? [...one(a), ...one(b)] : [...one(b), ...one(a)] }),
    ),
  );
  t.is(outcomes.filter((o) => o.status === "fulfilled").length, 60, JSON.stringify(outcomes.find((o) => o.status === "rejected")));
  t.deepEqual(await levelOf(inventory, a), { onHand: 1000, reserved: 60 });
  t.deepEqual(await levelOf(inventory, b), { onHand: 1000, reserved: 60 });
});

test("committing a reservation sells its units once, records the sale and publishes StockCommitted", async (t) => {
  const sku = await stocked(8);
  const reference = unique("order");
  const { reservation } = await inventory.checkout.reserveStock({ reference, lines: one(sku, 3) });
  const committed = await inventory.checkout.commitReservation({ reservationId: reservation!.id });
  t.is(committed.reservation?.state, ReservationState.COMMITTED);
  t.truthy(committed.reservation?.closeTime);
  const again = await inventory.checkout.commitReservation({ reservationId: reservation!.id });
  t.is(again.reservation?.state, ReservationState.COMMITTED);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 5, reserved: 0 });

  const release = await failure(inventory.checkout.releaseReservation({ reservationId: reservation!.id }));
  t.is(release.code, Code.FailedPrecondition);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 5, reserved: 0 });

  const { movements } = await inventory.admin.listStockMovements({ sku });
  t.deepEqual(
    movements.map((m) => [m.delta, m.actor, m.onHandAfter]),
    [
      [-3n, reference, 5n],
      [8n, "admin-1", 8n],
    ],
  );
  const events = (await inventory.outbox(StockCommittedSchema)).filter((e) => e.reservationId === reservation!.id);
  t.is(events.length, 1);
  t.deepEqual(events[0]?.lines.map((l) => [l.sku, l.location, l.quantity]), [[sku, "default", 3n]]);
});

test("releasing a reservation returns its units once; committing it afterwards is refused", async (t) => {
  const sku = await stocked(4);
  const { reservation } = await inventory.checkout.reserveStock({ reference: unique("order"), lines: one(sku, 4) });
  t.deepEqual(await levelOf(inventory, sku), { onHand: 4, reserved: 4 });
  const released = await inventory.checkout.releaseReservation({ reservationId: reservation!.id });
  t.is(released.reservation?.state, ReservationState.RELEASED);
  await inventory.checkout.releaseReservation({ reservationId: reservation!.id });
  t.deepEqual(await levelOf(inventory, sku), { onHand: 4, reserved: 0 });
  const commit = await failure(inventory.checkout.commitReservation({ reservationId: reservation!.id }));
  t.is(commit.code, Code.FailedPrecondition);
  t.is(commit.reason, "RESERVATION_CLOSED");
  const events = (await inventory.outbox(StockReleasedSchema)).filter((e) => e.reservationId === reservation!.id);
  t.deepEqual(events.map((e) => e.reason), [ReleaseReason.REQUESTED]);
});

test("an expired reservation is released automatically and can no longer be committed", async (t) => {
  const sku = await stocked(6);
  const { reservation } = await inventory.checkout.reserveStock({ reference: unique("order"), lines: one(sku, 6), ttl: { seconds: 1n, nanos: 0 } });
  t.deepEqual(await levelOf(inventory, sku), { onHand: 6, reserved: 6 });
  await eventually("the reservation expiring", async () => {
    const { reservation: current } = await inventory.admin.getReservation({ reservationId: reservation!.id });
    return current?.state === ReservationState.EXPIRED;
  });
  t.deepEqual(await levelOf(inventory, sku), { onHand: 6, reserved: 0 });
  const commit = await failure(inventory.checkout.commitReservation({ reservationId: reservation!.id }));
  t.is(commit.code, Code.FailedPrecondition);
  const events = (await inventory.outbox(StockReleasedSchema)).filter((e) => e.reservationId === reservation!.id);
  t.deepEqual(events.map((e) => e.reason), [ReleaseReason.EXPIRED]);
  // Releasing an expired reservation is a no-op that reports it as expired.
  const released = await inventory.checkout.releaseReservation({ reservationId: reservation!.id });
  t.is(released.reservation?.state, ReservationState.EXPIRED);
});

test("two instances sweeping the same database expire each reservation exactly once", async (t) => {
  const second = await startInventory({ name: inventory.name, sweepIntervalMs: 50, sweepBatchSize: 7 });
  t.teardown(() => second.stopInstance());
  const sku = await stocked(100);
  const ids = await Promise.all(
    Array.from({ length: 40 }, async () => {
      const { reservation } = await inventory.checkout.reserveStock({ reference: unique("order"), lines: one(sku, 2), ttl: { seconds: 1n, nanos: 0 } });
      return reservation!.id;
    }),
  );
  await eventually("every reservation expiring", async () => (await levelOf(inventory, sku))?.reserved === 0);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 100, reserved: 0 });
  const [{ available }] = (await inventory.sql<{ available: string }>("select available from sku_stock where sku = $1", [sku])) as [{ available: string }];
  t.is(Number(available), 100);
  const released = (await inventory.outbox(StockReleasedSchema)).filter((e) => ids.includes(e.reservationId));
  t.is(released.length, 40);
  t.is(new Set(released.map((e) => e.reservationId)).size, 40);
});

test("reserving the last units publishes OutOfStock and releasing them publishes BackInStock", async (t) => {
  const sku = await stocked(3);
  t.deepEqual((await inventory.outbox(BackInStockSchema)).filter((e) => e.sku === sku).map((e) => e.available), [3n]);
  const { reservation } = await inventory.checkout.reserveStock({ reference: unique("order"), lines: one(sku, 3) });
  t.is((await inventory.outbox(OutOfStockSchema)).filter((e) => e.sku === sku).length, 1);
  await inventory.checkout.releaseReservation({ reservationId: reservation!.id });
  t.deepEqual((await inventory.outbox(BackInStockSchema)).filter((e) => e.sku === sku).map((e) => e.available), [3n, 3n]);
  t.is((await inventory.outbox(OutOfStockSchema)).filter((e) => e.sku === sku).length, 1);
});

test("availability events follow the total over all locations, not one location", async (t) => {
  const sku = await stocked(2, "berlin");
  await inventory.admin.receiveStock({ sku, location: "paris", quantity: 1n });
  await inventory.checkout.reserveStock({ reference: unique("order"), lines: one(sku, 2, "berlin") });
  t.is((await inventory.outbox(OutOfStockSchema)).filter((e) => e.sku === sku).length, 0);
  await inventory.checkout.reserveStock({ reference: unique("order"), lines: one(sku, 1, "paris") });
  t.is((await inventory.outbox(OutOfStockSchema)).filter((e) => e.sku === sku).length, 1);
});

test("only services and admins may reserve: anonymous callers are unauthenticated, customers denied", async (t) => {
  const sku = await stocked(1);
  const anonymous = await failure(inventory.anonymous.reserveStock({ reference: unique("order"), lines: one(sku) }));
  t.is(anonymous.code, Code.Unauthenticated);
  const customer = await failure(inventory.customer.reserveStock({ reference: unique("order"), lines: one(sku) }));
  t.is(customer.code, Code.PermissionDenied);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 1, reserved: 0 });
});

test("a reservation past its ttl cannot be committed even before a sweep has released it", async (t) => {
  let sweeper: Sweep | undefined;
  const idle = await startInventory({ sweepIntervalMs: 600_000, onSweeper: (s) => (sweeper = s) });
  t.teardown(() => idle.stop());
  const sku = uniqueSku();
  await idle.admin.receiveStock({ sku, quantity: 2n });
  const { reservation } = await idle.checkout.reserveStock({ reference: unique("order"), lines: one(sku, 2), ttl: { seconds: 1n, nanos: 0 } });
  await eventually("the ttl passing", async () => {
    const [row] = await idle.sql<{ due: boolean }>("select expires_at <= clock_timestamp() as due from reservation where id = $1", [reservation!.id]);
    return row?.due === true;
  });
  const commit = await failure(idle.checkout.commitReservation({ reservationId: reservation!.id }));
  t.is(commit.code, Code.FailedPrecondition);
  t.is(commit.reason, "RESERVATION_EXPIRED");
  t.deepEqual(await levelOf(idle, sku), { onHand: 2, reserved: 2 });
  t.is(await sweeper!.sweep(), 1);
  t.deepEqual(await levelOf(idle, sku), { onHand: 2, reserved: 0 });
  t.is((await idle.admin.getReservation({ reservationId: reservation!.id })).reservation?.state, ReservationState.EXPIRED);
});
