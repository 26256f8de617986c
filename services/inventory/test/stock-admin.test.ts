// The admin side through a real server: receiving, adjusting with reasons (the audit trail), the
// low-stock threshold, stock reads and listings, the idempotent seed, and who may do what.
import { Code } from "@connectrpc/connect";
import test from "ava";
import { createDatabase, createLogger } from "@bazaar/platform";
import { BackInStockSchema, LowStockSchema, OutOfStockSchema } from "@bazaar/contracts/bazaar/inventory/v1/events_pb";
import { MovementReason } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { inventoryEntities, inventoryMigrations, seedStock } from "../src/index.ts";
import { env, failure, levelOf, startInventory, unique, type Harness, uniqueSku } from "./helpers.ts";

let inventory: Harness;
test.before(async () => {
  inventory = await startInventory();
});
test.after.always(async () => {
  await inventory?.stop();
});

test("receiving stock creates the SKU per location, adds up and records each receipt as a movement", async (t) => {
  const sku = uniqueSku();
  const first = await inventory.admin.receiveStock({ sku, quantity: 5n, note: "delivery 1" });
  t.is(first.level?.location, "default");
  t.is(first.level?.available, 5n);
  t.is(first.movement?.reason, MovementReason.RECEIVED);
  await inventory.admin.receiveStock({ sku, quantity: 7n });
  await inventory.admin.receiveStock({ sku, location: "store-2", quantity: 3n });

  const { stock, levels } = await inventory.anonymous.getStockLevel({ sku });
  t.deepEqual([stock?.onHand, stock?.reserved, stock?.available], [15n, 0n, 15n]);
  t.deepEqual(levels.map((l) => [l.location, l.onHand]), [["default", 12n], ["store-2", 3n]]);
  const { movements } = await inventory.admin.listStockMovements({ sku });
  t.deepEqual(movements.map((m) => [m.location, m.delta, m.onHandAfter, m.note, m.actor]), [
    ["store-2", 3n, 3n, "", "admin-1"],
    ["default", 7n, 12n, "", "admin-1"],
    ["default", 5n, 5n, "delivery 1", "admin-1"],
  ]);
});

test("adjusting stock records the reason, and may not take on hand below what is reserved", async (t) => {
  const sku = uniqueSku();
  await inventory.admin.receiveStock({ sku, quantity: 10n });
  await inventory.checkout.reserveStock({ reference: unique("order"), lines: [{ sku, quantity: 6n }] });
  const damaged = await inventory.admin.adjustStock({ sku, delta: -3n, reason: MovementReason.DAMAGED, note: "crushed box" });
  t.is(damaged.level?.onHand, 7n);
  t.is(damaged.level?.available, 1n);
  t.is(damaged.movement?.reason, MovementReason.DAMAGED);

  const tooMuch = await failure(inventory.admin.adjustStock({ sku, delta: -2n, reason: MovementReason.LOST }));
  t.is(tooMuch.code, Code.FailedPrecondition);
  t.is(tooMuch.reason, "INSUFFICIENT_STOCK");
  t.deepEqual(await levelOf(inventory, sku), { onHand: 7, reserved: 6 });

  const nowhere = await failure(inventory.admin.adjustStock({ sku, location: "moon", delta: 1n, reason: MovementReason.RETURNED }));
  t.is(nowhere.code, Code.NotFound);
  const { movements } = await inventory.admin.listStockMovements({ sku });
  t.deepEqual(movements.map((m) => [m.reason, m.delta, m.note]), [
    [MovementReason.DAMAGED, -3n, "crushed box"],
    [MovementReason.RECEIVED, 10n, ""],
  ]);
});

test("an adjustment with an idempotency key is made once however often it is sent; the key on another adjustment is refused", async (t) => {
  const sku = uniqueSku();
  await inventory.admin.receiveStock({ sku, quantity: 4n });
  const key = unique("return-line");
  // The returns service restocks on its own authority (its service token), as a crash retry would.
  const returnsService = inventory.clientWith(await inventory.signer.token({ subject: "returns", service: true }));
  const first = await returnsService.adjustStock({ sku, delta: 2n, reason: MovementReason.RETURNED, note: "return r1", idempotencyKey: key });
  t.is(first.level?.onHand, 6n);
  const repeats = await Promise.all([1, 2, 3].map(() => returnsService.adjustStock({ sku, delta: 2n, reason: MovementReason.RETURNED, note: "return r1", idempotencyKey: key })));
  for (const repeat of repeats) t.is(repeat.movement?.id, first.movement?.id, "the stored movement answers");
  t.deepEqual(await levelOf(inventory, sku), { onHand: 6, reserved: 0 });

  const reused = await failure(inventory.admin.adjustStock({ sku, delta: 3n, reason: MovementReason.RETURNED, idempotencyKey: key }));
  t.is(reused.code, Code.AlreadyExists);
  t.is(reused.reason, "IDEMPOTENCY_KEY_REUSED");
  const malformed = await failure(inventory.admin.adjustStock({ sku, delta: 1n, reason: MovementReason.RETURNED, idempotencyKey: "a\u0001b" }));
  t.is(malformed.code, Code.InvalidArgument);
  t.deepEqual(malformed.fields, ["idempotency_key"]);
  // A service may not adjust otherwise.
  t.is((await failure(returnsService.adjustStock({ sku, delta: -1n, reason: MovementReason.LOST, idempotencyKey: unique("k") }))).code, Code.PermissionDenied);
  t.deepEqual(await levelOf(inventory, sku), { onHand: 6, reserved: 0 });
  const { movements } = await inventory.admin.listStockMovements({ sku });
  t.deepEqual(movements.map((m) => [m.reason, m.delta, m.actor]), [
    [MovementReason.RETURNED, 2n, "returns"],
    [MovementReason.RECEIVED, 4n, "admin-1"],
  ]);
});

test("the database refuses stock below zero or below what is reserved even from raw SQL", async (t) => {
  const sku = uniqueSku();
  await inventory.admin.receiveStock({ sku, quantity: 2n });
  await inventory.checkout.reserveStock({ reference: unique("order"), lines: [{ sku, quantity: 2n }] });
  const error = await t.throwsAsync(inventory.sql("update stock_level set on_hand = 1 where sku = $1", [sku]));
  t.regex(String(error?.message), /stock_level_available_not_negative/);
  await t.throwsAsync(inventory.sql("update stock_level set reserved = -1 where sku = $1", [sku]));
  await t.throwsAsync(inventory.sql("update sku_stock set available = -1 where sku = $1", [sku]));
  t.deepEqual(await levelOf(inventory, sku), { onHand: 2, reserved: 2 });
});

test("availability falling to the low-stock threshold publishes LowStock once; reaching zero publishes OutOfStock", async (t) => {
  const sku = uniqueSku();
  await inventory.admin.receiveStock({ sku, quantity: 10n });
  const set = await inventory.admin.setLowStockThreshold({ sku, threshold: 3n });
  t.is(set.stock?.lowStockThreshold, 3n);
  await inventory.checkout.reserveStock({ reference: unique("order"), lines: [{ sku, quantity: 6n }] });
  t.is((await inventory.outbox(LowStockSchema)).filter((e) => e.sku === sku).length, 0);
  await inventory.checkout.reserveStock({ reference: unique("order"), lines: [{ sku, quantity: 2n }] });
  await inventory.checkout.reserveStock({ reference: unique("order"), lines: [{ sku, quantity: 1n }] });
  const low = (await inventory.outbox(LowStockSchema)).filter((e) => e.sku === sku);
  t.deepEqual(low.map((e) => [e.available, e.threshold]), [[2n, 3n]]);
  await inventory.admin.adjustStock({ sku, delta: -1n, reason: MovementReason.COUNT_CORRECTION });
  t.is((await inventory.outbox(OutOfStockSchema)).filter((e) => e.sku === sku).length, 1);
  await inventory.admin.receiveStock({ sku, quantity: 1n });
  t.deepEqual((await inventory.outbox(BackInStockSchema)).filter((e) => e.sku === sku).map((e) => e.available), [10n, 1n]);
});

test("BatchGetStockLevels answers in the order asked and marks SKUs the inventory does not know", async (t) => {
  const a = uniqueSku();
  const b = uniqueSku();
  await inventory.admin.receiveStock({ sku: a, quantity: 4n });
  await inventory.admin.receiveStock({ sku: b, location: "north", quantity: 2n });
  await inventory.admin.receiveStock({ sku: b, location: "south", quantity: 3n });
  const unknown = uniqueSku();
  const { stocks } = await inventory.anonymous.batchGetStockLevels({ skus: [b, unknown, a] });
  t.deepEqual(stocks.map((s) => [s.sku, s.known, s.available]), [[b, true, 5n], [unknown, false, 0n], [a, true, 4n]]);
  const missing = await failure(inventory.anonymous.getStockLevel({ sku: unknown }));
  t.is(missing.code, Code.NotFound);
});

test("ListStockLevels pages by keyset without duplicates or gaps while stock is added between pages", async (t) => {
  const location = unique("loc");
  const skus = Array.from({ length: 9 }, (_, i) => `${uniqueSku("P")}-${i}`);
  for (const sku of skus) await inventory.admin.receiveStock({ sku, location, quantity: 1n });
  const seen: string[] = [];
  let pageToken = "";
  let added = false;
  do {
    const page = await inventory.admin.listStockLevels({ pageSize: 4, pageToken, location });
    seen.push(...page.levels.map((l) => l.sku));
    pageToken = page.nextPageToken;
    if (!added) {
      // Rows inserted before the cursor are not seen; rows after it are, once.
      await inventory.admin.receiveStock({ sku: "ZZZ-" + uniqueSku("LATE"), location, quantity: 1n });
      await inventory.admin.receiveStock({ sku: "000-" + uniqueSku("EARLY"), location, quantity: 1n });
      added = true;
    }
  } while (pageToken);
  t.is(new Set(seen).size, seen.length);
  t.deepEqual(seen.filter((s) => skus.includes(s)), [...skus].sort());
  t.is(seen.filter((s) => s.startsWith("ZZZ-")).length, 1);
  t.deepEqual(seen, [...seen].sort());
});

test("ListStockMovements pages newest first with page tokens", async (t) => {
  const sku = uniqueSku();
  for (let i = 1; i <= 5; i++) await inventory.admin.receiveStock({ sku, quantity: BigInt(i) });
  const first = await inventory.admin.listStockMovements({ sku, pageSize: 2 });
  const second = await inventory.admin.listStockMovements({ sku, pageSize: 2, pageToken: first.nextPageToken });
  const third = await inventory.admin.listStockMovements({ sku, pageSize: 2, pageToken: second.nextPageToken });
  t.deepEqual([...first.movements, ...second.movements, ...third.movements].map((m) => m.delta), [5n, 4n, 3n, 2n, 1n]);
  t.is(third.nextPageToken, "");
});

test("admin RPCs refuse customers and anonymous callers, and stock reads are public", async (t) => {
  const sku = uniqueSku();
  t.is((await failure(inventory.customer.receiveStock({ sku, quantity: 1n }))).code, Code.PermissionDenied);
  t.is((await failure(inventory.checkout.adjustStock({ sku, delta: 1n, reason: MovementReason.RETURNED }))).code, Code.PermissionDenied);
  t.is((await failure(inventory.anonymous.setLowStockThreshold({ sku, threshold: 1n }))).code, Code.Unauthenticated);
  t.is((await failure(inventory.customer.listStockLevels({}))).code, Code.PermissionDenied);
  t.is((await failure(inventory.customer.listStockMovements({ sku }))).code, Code.PermissionDenied);
  t.is((await failure(inventory.anonymous.getStockLevel({ sku }))).code, Code.NotFound);
});

test("seedStock sets exactly the given levels, and running it again changes nothing", async (t) => {
  const database = await createDatabase({
    url: env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    dbName: `bazaar_${inventory.name.replaceAll("-", "_")}`,
    entities: inventoryEntities,
    migrations: inventoryMigrations,
    logger: createLogger({ service: "seed-test", level: "silent" }),
  });
  t.teardown(() => database.close());
  const a = uniqueSku("SEED");
  const b = uniqueSku("SEED");
  const items = [
    { sku: a, onHand: 12, lowStockThreshold: 2 },
    { sku: a, location: "annex", onHand: 3 },
    { sku: b, onHand: 0 },
  ];
  await seedStock(database, items);
  await seedStock(database, items);
  t.deepEqual(await levelOf(inventory, a), { onHand: 12, reserved: 0 });
  t.deepEqual(await levelOf(inventory, a, "annex"), { onHand: 3, reserved: 0 });
  const { stock } = await inventory.anonymous.getStockLevel({ sku: a });
  t.deepEqual([stock?.available, stock?.lowStockThreshold], [15n, 2n]);
  t.is((await inventory.anonymous.getStockLevel({ sku: b })).stock?.available, 0n);
  const [moves] = await inventory.sql<{ n: string }>("select count(*) as n from stock_movement where sku = $1", [a]);
  t.is(Number(moves!.n), 2);
  t.is((await inventory.outbox(BackInStockSchema)).filter((e) => e.sku === a).length, 1);

  await seedStock(database, [{ sku: a, onHand: 5 }]);
  t.deepEqual(await levelOf(inventory, a), { onHand: 5, reserved: 0 });
});
