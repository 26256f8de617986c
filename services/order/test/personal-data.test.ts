// A deleted account's orders keep their amounts and lines and lose the person (email, name, phone,
// street): identity's UserDeleted through the order service's consumer, once however often it arrives.
import test from "ava";
import { create } from "@bufbuild/protobuf";
import { randomUUID } from "node:crypto";
import { UserDeletedSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { publishEvent } from "@bazaar/platform/testing";
import { ERASED_EMAIL } from "../src/personal-data.ts";
import { address, eventually, meshPerFile, placeRequest, sellable, userCart } from "./helpers.ts";

const mesh = meshPerFile(test);

test("UserDeleted anonymises the user's orders (no email, name, phone or street; amounts, lines and country kept), and no one else's", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { price: 1250, stock: 10 });
  const place = async (userId: string) => {
    const cartId = await userCart(m, userId, [{ sku, quantity: 2 }]);
    const { order } = await (await m.orders.user(userId)).placeOrder(placeRequest(cartId, { email: `${userId}@example.com`, shippingAddress: address({ phone: "+15550100" }) }));
    t.is(order!.status, OrderStatus.CONFIRMED);
    return order!;
  };
  const leaving = randomUUID();
  const staying = randomUUID();
  const gone = await place(leaving);
  const kept = await place(staying);

  const deleted = create(UserDeletedSchema, { eventId: randomUUID(), userId: leaving });
  await publishEvent(UserDeletedSchema, deleted);
  await publishEvent(UserDeletedSchema, deleted); // a redelivered copy changes nothing more
  await eventually("the order anonymised", async () => (await m.orders.admin.getOrder({ orderId: gone.id })).order!.email === ERASED_EMAIL);

  const { order: after } = await m.orders.admin.getOrder({ orderId: gone.id });
  const { recipientName, line1, line2, city, region, postalCode, phone, countryCode } = after!.shippingAddress!;
  t.deepEqual({ recipientName, line1, line2, city, region, postalCode, phone, countryCode }, { recipientName: "", line1: "", line2: "", city: "", region: "", postalCode: "", phone: "", countryCode: "US" });
  t.is(after!.totals!.total!.amountMinor, gone.totals!.total!.amountMinor);
  t.is(after!.captured!.amountMinor, gone.captured!.amountMinor);
  t.deepEqual(
    after!.lines.map((line) => [line.sku, line.quantity]),
    gone.lines.map((line) => [line.sku, line.quantity]),
  );
  t.is(after!.status, gone.status);
  t.is(after!.userId, leaving);

  const { order: other } = await m.orders.admin.getOrder({ orderId: kept.id });
  t.is(other!.email, `${staying}@example.com`);
  t.is(other!.shippingAddress!.recipientName, "Ada Lovelace");
  t.is(other!.shippingAddress!.phone, "+15550100");
});
