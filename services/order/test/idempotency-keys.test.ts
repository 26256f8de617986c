// Idempotency keys as plain functions: buyer scopes, request fingerprints, and the sweeper that deletes
// keys once they are older than the retention (never younger ones).
import test from "ava";
import { create } from "@bufbuild/protobuf";
import { uuidv7 } from "uuidv7";
import { createLogger, type Database } from "@bazaar/platform";
import { eventually } from "@bazaar/platform/testing";
import { PlaceOrderRequestSchema } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { checkSameRequest, keyScope, requestHash, startKeySweeper } from "../src/idempotency.ts";
import { createOrder } from "../src/orders.ts";
import { openOrderDatabase } from "./database.ts";

const logger = createLogger({ service: "order-keys-test", level: "silent" });
let database: Database;
let close: (() => Promise<void>) | undefined;

test.before(async () => {
  ({ database, close } = await openOrderDatabase("order-keys"));
});

test.after.always(() => close?.());

test("keys are scoped to the signed-in user, or to a hash of the guest's cart token (never the token itself)", (t) => {
  t.is(keyScope("user-1", ""), "user:user-1");
  const guest = keyScope(undefined, "secret-token");
  t.regex(guest, /^guest:[0-9a-f]{64}$/);
  t.false(guest.includes("secret-token"));
  t.not(keyScope(undefined, "other-token"), guest);
});

test("equal requests hash alike; any difference changes the hash and is refused naming idempotency_key", (t) => {
  const request = create(PlaceOrderRequestSchema, { cartId: "c", shippingOptionId: "standard", paymentMethod: "pm_test_ok", idempotencyKey: "k" });
  const same = create(PlaceOrderRequestSchema, { idempotencyKey: "k", paymentMethod: "pm_test_ok", shippingOptionId: "standard", cartId: "c" });
  const other = create(PlaceOrderRequestSchema, { ...request, shippingOptionId: "express" });
  t.is(requestHash(request), requestHash(same));
  t.not(requestHash(request), requestHash(other));
  t.notThrows(() => checkSameRequest({ orderId: "o", requestHash: requestHash(request) }, requestHash(same)));
  const error = t.throws(() => checkSameRequest({ orderId: "o", requestHash: requestHash(request) }, requestHash(other)));
  t.deepEqual((error as unknown as { violations: { field: string }[] }).violations.map((v) => v.field), ["idempotency_key"]);
});

test("the sweeper deletes keys older than the retention and keeps younger ones", async (t) => {
  const keyFor = async (ageHours: number) => {
    const id = uuidv7();
    await createOrder(
      database.em(),
      {
        id,
        userId: "u",
        email: "a@example.com",
        cartId: uuidv7(),
        cartTokenHash: undefined,
        currency: "USD",
        subtotal: 100n,
        discount: 0n,
        shipping: 0n,
        tax: 0n,
        total: 100n,
        taxRateBps: 0,
        shippingAddress: { recipientName: "A", line1: "L", line2: "", city: "C", region: "", postalCode: "1", countryCode: "US", phone: "" },
        shippingOptionId: "standard",
        paymentMethod: "pm_test_ok",
        lines: [{ sku: "S", productId: "p", productName: "P", options: {}, quantity: 1, unitPrice: 100n, lineTotal: 100n }],
      },
      { scope: "user:u", key: id, requestHash: "h" },
      0,
    );
    await database.em().execute("update idempotency_key set created_at = clock_timestamp() - ? * interval '1 hour' where key = ?", [ageHours, id], "run");
    return id;
  };
  const old = await keyFor(25);
  const young = await keyFor(23);
  const sweeper = startKeySweeper({ database, logger, retentionHours: 24, intervalMs: 100 });
  t.teardown(() => sweeper.stop());
  const keys = async () => (await database.em().execute<{ key: string }[]>("select key from idempotency_key where key in (?, ?)", [old, young])).map((r) => r.key);
  await eventually("the old key swept", async () => !(await keys()).includes(old), 20_000);
  t.deepEqual(await keys(), [young]);
});
