// A signed-in buyer who leaves the email empty gets the account's email on the order, read from
// identity with the buyer's own token; a guest must give one.
import test from "ava";
import { randomBytes } from "node:crypto";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { meshPerFile, placeRequest, sellable } from "./helpers.ts";

const mesh = meshPerFile(test, { withIdentity: true });

test("an empty email means the account's email, read from identity", async (t) => {
  const m = mesh();
  const email = `buyer-${randomBytes(4).toString("hex")}@example.com`;
  const { userId, token } = await m.signIn(email);
  const sku = await sellable(m, { stock: 5 });
  const carts = m.carts.withToken(token);
  const { cart } = await carts.createCart({ currencyCode: "USD" });
  await carts.addCartItem({ cartId: cart!.id, sku, quantity: 1 });
  const { order } = await m.orders.withToken(token).placeOrder(placeRequest("", { email: "" }));
  t.is(order!.status, OrderStatus.CONFIRMED);
  t.is(order!.userId, userId);
  t.is(order!.email, email);
});
