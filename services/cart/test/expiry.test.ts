// Idle carts expire in the background: guests after the guest time to live, users after theirs; a
// write moves the expiry forward.
import test from "ava";
import { CartState } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { eventually, meshPerFile } from "./helpers.ts";

// A fast sweeper, so the real background task does the work.
const mesh = meshPerFile(test, { env: { CART_SWEEP_INTERVAL_MS: "100" } });

test("the sweeper expires a guest cart idle for 8 days but not a user cart of the same age", async (t) => {
  const m = mesh();
  const created = await m.guest().createCart({});
  const guestId = created.cart!.id;
  const user = await m.user();
  const userId = (await user.createCart({})).cart!.id;
  const fresh = (await m.guest().createCart({})).cart!.id;
  await m.sql("update cart set updated_at = now() - interval '8 days' where id = any($1::uuid[])", [[guestId, userId]]);

  await eventually("the idle guest cart to expire", async () => (await m.guest(created.cartToken).getCart({ cartId: guestId })).cart?.state === CartState.EXPIRED, 30_000);
  // The same sweep statement saw the user cart: still active, and the fresh guest cart too.
  t.is((await user.getCart({ cartId: userId })).cart?.state, CartState.ACTIVE);
  t.is((await m.admin.getCart({ cartId: fresh })).cart?.state, CartState.ACTIVE);

  // Past the user time to live (60 days) the user cart goes too.
  await m.sql("update cart set updated_at = now() - interval '61 days' where id = $1", [userId]);
  await eventually("the idle user cart to expire", async () => (await user.getCart({ cartId: userId })).cart?.state === CartState.EXPIRED, 30_000);
});

test("expire_time is the last write plus the time to live, and a write moves it", async (t) => {
  const m = mesh();
  const user = await m.user();
  const { cart } = await user.createCart({});
  await m.sql("update cart set updated_at = now() - interval '1 day' where id = $1", [cart!.id]);
  const before = (await user.getCart({})).cart!;
  const day = 24 * 3600;
  t.is(Number(before.expireTime!.seconds - before.updateTime!.seconds), 60 * day);
  const after = (await user.setCartShipping({ shipping: { countryCode: "US", shippingOptionId: "standard" } })).cart!;
  t.true(after.expireTime!.seconds >= before.expireTime!.seconds + BigInt(day) - 5n);
  const guest = (await m.guest().createCart({})).cart!;
  t.is(Number(guest.expireTime!.seconds - guest.updateTime!.seconds), 7 * day);
});
