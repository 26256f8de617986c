// RestockReservation through a real server over gRPC: a committed reservation's units go back on hand
// at their locations with movements and a StockRestocked event, once, and nothing else is restocked.
import { Code } from "@connectrpc/connect";
import test from "ava";
import { BackInStockSchema, StockRestockedSchema } from "@bazaar/contracts/bazaar/inventory/v1/events_pb";
import { MovementReason, ReservationState } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
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

async function committed(lines: Array<{ sku: string; location?: string; quantity: number }>) {
  const reference = unique("order");
  const { reservation } = await inventory.checkout.reserveStock({
    reference,
    lines: lines.map((l) => ({ sku: l.sku, location: l.location ?? "", quantity: BigInt(l.quantity) })),
  });
  await inventory.checkout.commitReservation({ reservationId: reservation!.id });
  return { id: reservation!.id, reference };
}

test("restocking a committed reservation puts its units back on hand at their locations, with returned movements and StockRestocked", async (t) => {
  const shirts = await stocked(3);
  await inventory.admin.receiveStock({ sku: shirts, location: "store-2", quantity: 4n });
  const mugs = await stocked(5);
  // The whole default stock of shirts is sold: restocking brings it back in stock.
  const sale = await committed([
    { sku: shirts, quantity: 3 },
    { sku: shirts, location: "store-2", quantity: 1 },
    { sku: mugs, quantity: 2 },
  ]);
  t.deepEqual(await levelOf(inventory, shirts), { onHand: 0, reserved: 0 });

  const { reservation } = await inventory.checkout.restockReservation({ reservationId: sale.id });
  t.is(reservation?.state, ReservationState.RESTOCKED);
  t.is(reservation?.reference, sale.reference);
  t.deepEqual(reservation?.lines.map((l) => [l.sku, l.location, l.quantity]), [
    [shirts, "default", 3n],
    [shirts, "store-2", 1n],
    [mugs, "default", 2n],
  ].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0)));

  t.deepEqual(await levelOf(inventory, shirts), { onHand: 3, reserved: 0 });
  t.deepEqual(await levelOf(inventory, shirts, "store-2"), { onHand: 4, reserved: 0 });
  t.deepEqual(await levelOf(inventory, mugs), { onHand: 5, reserved: 0 });
  t.is((await inventory.admin.getStockLevel({ sku: shirts })).stock?.available, 7n);
  t.is((await inventory.admin.getStockLevel({ sku: mugs })).stock?.available, 5n);

  const { movements } = await inventory.admin.listStockMovements({ sku: shirts });
  const returned = movements.filter((m) => m.reason === MovementReason.RETURNED);
  t.deepEqual(returned.map((m) => [m.location, m.delta, m.onHandAfter, m.actor]).sort(), [
    ["default", 3n, 3n, "order"],
    ["store-2", 1n, 4n, "order"],
  ]);
  t.true(returned.every((m) => m.note.includes(sale.id) && m.note.includes(sale.reference)), returned.map((m) => m.note).join(" | "));

  const events = (await inventory.outbox(StockRestockedSchema)).filter((e) => e.reservationId === sale.id);
  t.is(events.length, 1);
  t.is(events[0]?.reference, sale.reference);
  t.deepEqual(events[0]?.lines.map((l) => [l.sku, l.location, l.quantity]), reservation?.lines.map((l) => [l.sku, l.location, l.quantity]));
  t.true((await inventory.outbox(BackInStockSchema)).some((e) => e.sku === shirts && e.available === 3n));
});

test("restocking again, or many times at once, puts the units back only once and returns the restocked reservation", async (t) => {
  const sku = await stocked(10);
  const sale = await committed([{ sku, quantity: 4 }]);
  const outcomes = await Promise.all(Array.from({ length: 8 }, () => inventory.checkout.restockReservation({ reservationId: sale.id })));
  t.true(outcomes.every((o) => o.reservation?.state === ReservationState.RESTOCKED && o.reservation.id === sale.id));
  const again = await inventory.admin.restockReservation({ reservationId: sale.id });
  t.is(again.reservation?.state, ReservationState.RESTOCKED);
  t.deepEqual(again.reservation?.closeTime, outcomes[0]?.reservation?.closeTime);

  t.deepEqual(await levelOf(inventory, sku), { onHand: 10, reserved: 0 });
  const { movements } = await inventory.admin.listStockMovements({ sku });
  t.is(movements.filter((m) => m.reason === MovementReason.RETURNED).length, 1);
  t.is((await inventory.outbox(StockRestockedSchema)).filter((e) => e.reservationId === sale.id).length, 1);
  t.is((await inventory.admin.getReservation({ reservationId: sale.id })).reservation?.state, ReservationState.RESTOCKED);
});

test("active, released and expired reservations are not restocked: FAILED_PRECONDITION, nothing changes", async (t) => {
  const sku = await stocked(10);
  const active = (await inventory.checkout.reserveStock({ reference: unique("order"), lines: [{ sku, quantity: 2n }] })).reservation!;
  const released = (await inventory.checkout.reserveStock({ reference: unique("order"), lines: [{ sku, quantity: 1n }] })).reservation!;
  await inventory.checkout.releaseReservation({ reservationId: released.id });
  const expiring = (await inventory.checkout.reserveStock({ reference: unique("order"), lines: [{ sku, quantity: 3n }], ttl: { seconds: 1n, nanos: 0 } })).reservation!;
  await eventually(
    "the sweeper expiring the reservation",
    async () => (await inventory.admin.getReservation({ reservationId: expiring.id })).reservation?.state === ReservationState.EXPIRED,
    30_000,
  );

  for (const reservation of [active, released, expiring]) {
    const refused = await failure(inventory.checkout.restockReservation({ reservationId: reservation.id }));
    t.is(refused.code, Code.FailedPrecondition, reservation.id);
    t.is(refused.reason, "RESERVATION_NOT_COMMITTED");
  }
  t.deepEqual(await levelOf(inventory, sku), { onHand: 10, reserved: 2 });
  t.is((await inventory.admin.getReservation({ reservationId: active.id })).reservation?.state, ReservationState.ACTIVE);
  const { movements } = await inventory.admin.listStockMovements({ sku });
  t.false(movements.some((m) => m.reason === MovementReason.RETURNED));
  t.false((await inventory.outbox(StockRestockedSchema)).some((e) => [active.id, released.id, expiring.id].includes(e.reservationId)));
});

test("an unknown reservation is NOT_FOUND and a malformed id INVALID_ARGUMENT naming reservation_id", async (t) => {
  const unknown = await failure(inventory.checkout.restockReservation({ reservationId: "01890a5d-ac96-774b-bcce-b302099a8057" }));
  t.is(unknown.code, Code.NotFound);
  const malformed = await failure(inventory.checkout.restockReservation({ reservationId: "not-a-uuid" }));
  t.is(malformed.code, Code.InvalidArgument);
  t.deepEqual(malformed.fields, ["reservation_id"]);
});

test("only services and admins restock: customers are refused, anonymous callers unauthenticated, nothing changes", async (t) => {
  const sku = await stocked(5);
  const sale = await committed([{ sku, quantity: 2 }]);
  t.is((await failure(inventory.customer.restockReservation({ reservationId: sale.id }))).code, Code.PermissionDenied);
  t.is((await failure(inventory.anonymous.restockReservation({ reservationId: sale.id }))).code, Code.Unauthenticated);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 3, reserved: 0 });
  t.is((await inventory.admin.restockReservation({ reservationId: sale.id })).reservation?.state, ReservationState.RESTOCKED);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 5, reserved: 0 });
});
