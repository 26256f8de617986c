// Bad input gets invalid_argument naming each offending field, and changes nothing — over gRPC and
// over Connect JSON (what browsers and curl send through the edge).
import { Code } from "@connectrpc/connect";
import test from "ava";
import { MovementReason } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { failure, levelOf, startInventory, unique, type Harness, uniqueSku } from "./helpers.ts";

let inventory: Harness;
test.before(async () => {
  inventory = await startInventory();
});
test.after.always(async () => {
  await inventory?.stop();
});

async function stocked(units: number) {
  const sku = uniqueSku();
  await inventory.admin.receiveStock({ sku, quantity: BigInt(units) });
  return sku;
}

async function reservationsFor(reference: string) {
  const [row] = await inventory.sql<{ n: string }>("select count(*) as n from reservation where reference = $1", [reference]);
  return Number(row!.n);
}

test("reserving zero, negative or huge quantities names each offending line and reserves nothing", async (t) => {
  const sku = await stocked(10);
  const other = await stocked(10);
  const reference = unique("order");
  const bad = await failure(
    inventory.checkout.reserveStock({
      reference,
      lines: [
        { sku, quantity: 0n },
        { sku: other, quantity: -3n },
        { sku, location: "elsewhere", quantity: 10_000_000_000n },
      ],
    }),
  );
  t.is(bad.code, Code.InvalidArgument);
  t.deepEqual(bad.fields, ["lines[0].quantity", "lines[1].quantity", "lines[2].quantity"]);
  t.is(await reservationsFor(reference), 0);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 10, reserved: 0 });
});

test("reserving an unknown SKU is invalid_argument naming the line, and the other lines stay free", async (t) => {
  const sku = await stocked(10);
  const reference = unique("order");
  const bad = await failure(
    inventory.checkout.reserveStock({ reference, lines: [{ sku, quantity: 1n }, { sku: unique("NOPE"), quantity: 1n }] }),
  );
  t.is(bad.code, Code.InvalidArgument);
  t.deepEqual(bad.fields, ["lines[1].sku"]);
  const elsewhere = await failure(inventory.checkout.reserveStock({ reference: unique("order"), lines: [{ sku, location: "nowhere", quantity: 1n }] }));
  t.is(elsewhere.code, Code.InvalidArgument);
  t.deepEqual(elsewhere.fields, ["lines[0].location"]);
  t.is(await reservationsFor(reference), 0);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 10, reserved: 0 });
});

test("a reservation without reference or lines, with repeated lines, too many lines or a ttl out of range is refused field by field", async (t) => {
  const sku = await stocked(10);
  const empty = await failure(inventory.checkout.reserveStock({ reference: "", lines: [] }));
  t.is(empty.code, Code.InvalidArgument);
  t.deepEqual(empty.fields, ["reference", "lines"]);

  const repeated = await failure(
    inventory.checkout.reserveStock({ reference: unique("order"), lines: [{ sku, quantity: 1n }, { sku, location: "default", quantity: 2n }] }),
  );
  t.deepEqual(repeated.fields, ["lines[1]"]);

  const many = await failure(
    inventory.checkout.reserveStock({ reference: unique("order"), lines: Array.from({ length: 101 }, (_, i) => ({ sku: `${sku}-${i}`, quantity: 1n })) }),
  );
  t.deepEqual(many.fields, ["lines"]);

  const ttl = await failure(
    inventory.checkout.reserveStock({ reference: unique("order"), lines: [{ sku, quantity: 1n }], ttl: { seconds: 90_000n, nanos: 0 } }),
  );
  t.deepEqual(ttl.fields, ["ttl"]);

  const malformed = await failure(
    inventory.checkout.reserveStock({ reference: "x".repeat(129), lines: [{ sku: "no spaces allowed", location: "bad location!", quantity: 1n }] }),
  );
  t.deepEqual(malformed.fields, ["reference", "lines[0].sku", "lines[0].location"]);
  // The catalog's SKU format, the same rule everywhere: lower case and '/' are not SKUs.
  const notCatalogSkus = await failure(
    inventory.admin.receiveStock({ sku: "sku-lower", quantity: 1n }),
  );
  t.deepEqual(notCatalogSkus.fields, ["sku"]);
  t.deepEqual((await failure(inventory.checkout.reserveStock({ reference: unique("order"), lines: [{ sku: "A/B", quantity: 1n }] }))).fields, ["lines[0].sku"]);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 10, reserved: 0 });
});

test("ids, page sizes and page tokens out of bounds are invalid_argument", async (t) => {
  t.deepEqual((await failure(inventory.checkout.commitReservation({ reservationId: "not-a-uuid" }))).fields, ["reservation_id"]);
  t.deepEqual((await failure(inventory.checkout.releaseReservation({ reservationId: "" }))).fields, ["reservation_id"]);
  const missing = await failure(inventory.admin.getReservation({ reservationId: "0190b7c4-0000-7000-8000-000000000000" }));
  t.is(missing.code, Code.NotFound);
  t.deepEqual((await failure(inventory.admin.listStockLevels({ pageSize: 501 }))).fields, ["page_size"]);
  t.deepEqual((await failure(inventory.admin.listStockLevels({ pageSize: -1 }))).fields, ["page_size"]);
  t.deepEqual((await failure(inventory.admin.listStockLevels({ pageToken: "garbage" }))).fields, ["page_token"]);
  const sku = await stocked(1);
  const token = (await inventory.admin.listStockLevels({ pageSize: 1 })).nextPageToken;
  // A token from one listing is refused by another.
  t.deepEqual((await failure(inventory.admin.listStockMovements({ sku, pageToken: token }))).fields, ["page_token"]);
  t.deepEqual((await failure(inventory.admin.batchGetStockLevels({ skus: [] }))).fields, ["skus"]);
  t.deepEqual((await failure(inventory.admin.batchGetStockLevels({ skus: Array.from({ length: 101 }, (_, i) => `S${i}`) }))).fields, ["skus"]);
});

test("receiving and adjusting with bad quantities, reasons or notes is refused and moves no stock", async (t) => {
  const sku = await stocked(5);
  t.deepEqual((await failure(inventory.admin.receiveStock({ sku, quantity: 0n }))).fields, ["quantity"]);
  t.deepEqual((await failure(inventory.admin.receiveStock({ sku, quantity: 2_000_000_000n, note: "n".repeat(501) }))).fields, ["quantity", "note"]);
  t.deepEqual((await failure(inventory.admin.receiveStock({ sku: "", quantity: 1n }))).fields, ["sku"]);
  t.deepEqual((await failure(inventory.admin.adjustStock({ sku, delta: 0n, reason: MovementReason.DAMAGED }))).fields, ["delta"]);
  t.deepEqual((await failure(inventory.admin.adjustStock({ sku, delta: -1n }))).fields, ["reason"]);
  t.deepEqual((await failure(inventory.admin.adjustStock({ sku, delta: 1n, reason: MovementReason.SOLD }))).fields, ["reason"]);
  t.deepEqual((await failure(inventory.admin.adjustStock({ sku, delta: 1n, reason: MovementReason.OTHER }))).fields, ["note"]);
  t.deepEqual((await failure(inventory.admin.setLowStockThreshold({ sku, threshold: -1n }))).fields, ["threshold"]);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 5, reserved: 0 });
  const { movements } = await inventory.admin.listStockMovements({ sku });
  t.is(movements.length, 1);
});

test("Connect JSON: a fractional or negative quantity is invalid_argument (HTTP 400), never a 5xx, and changes nothing", async (t) => {
  const sku = await stocked(3);
  const token = await inventory.signer.token({ subject: "order", service: true });
  const post = (body: unknown) =>
    fetch(`http://${inventory.service.address}/bazaar.inventory.v1.InventoryService/ReserveStock`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  const fractional = await post({ reference: unique("order"), lines: [{ sku, quantity: 1.5 }] });
  t.is(fractional.status, 400);
  t.is(((await fractional.json()) as { code: string }).code, "invalid_argument");

  const negative = await post({ reference: unique("order"), lines: [{ sku, quantity: "-2" }] });
  t.is(negative.status, 400);
  const body = (await negative.json()) as { code: string; message: string };
  t.is(body.code, "invalid_argument");
  t.regex(body.message, /lines\[0\]\.quantity/);

  const ok = await post({ reference: unique("order"), lines: [{ sku, quantity: "2" }], ttl: "60s" });
  t.is(ok.status, 200);
  t.is(((await ok.json()) as { reservation: { state: string } }).reservation.state, "RESERVATION_STATE_ACTIVE");
  t.deepEqual(await levelOf(inventory, sku), { onHand: 3, reserved: 2 });
});

test("Connect JSON GET serves stock levels to anonymous callers (NO_SIDE_EFFECTS)", async (t) => {
  const sku = await stocked(7);
  const message = encodeURIComponent(JSON.stringify({ sku }));
  const response = await fetch(`http://${inventory.service.address}/bazaar.inventory.v1.InventoryService/GetStockLevel?connect=v1&encoding=json&message=${message}`);
  t.is(response.status, 200);
  const body = (await response.json()) as { stock: { available: string; known: boolean } };
  t.is(body.stock.available, "7");
  t.true(body.stock.known);
});
