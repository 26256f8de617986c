// A user's download of their data (identity's ExportPersonalData) across the mesh: identity's own
// section, order's and catalog's through PersonalDataService, only ever the caller's; all or nothing
// when a holder is away. Serial: the last test stops the catalog.
import test from "ava";
import { randomUUID } from "node:crypto";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CatalogService } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { PersonalDataService } from "@bazaar/contracts/bazaar/privacy/v1/personal_data_service_pb";
import { DEVELOPMENT_SERVICE_CLIENT_SECRET } from "@bazaar/platform";
import { bearer, failure } from "@bazaar/platform/testing";
import { address, Code, eventually, meshPerFile, placeRequest, sellable, userCart, type Mesh } from "./helpers.ts";

const mesh = meshPerFile(test, { withIdentity: true });

const grpcAt = (address: string, token?: string) => createGrpcTransport({ baseUrl: `http://${address}`, interceptors: [bearer(token)] });
const identityClient = (m: Mesh, token?: string) => createClient(IdentityService, grpcAt(m.identity!.address, token));

type Download = { user_id: string; services: Record<string, Record<string, unknown>> };

/** A signed-in shopper with an address, one order of two units and a review of what it bought. */
async function shopper(m: Mesh, sku: string) {
  const email = `${randomUUID()}@example.com`;
  const { userId, token } = await m.signIn(email);
  const { line1, city, region, postalCode, countryCode } = address();
  await identityClient(m, token).createAddress({ userId, address: { recipientName: `Shopper ${userId.slice(0, 8)}`, line1, city, region, postalCode, countryCode } });
  const cartId = await userCart(m, userId, [{ sku, quantity: 2 }]);
  const { order } = await (await m.orders.user(userId)).placeOrder(placeRequest(cartId, { email, shippingAddress: address({ recipientName: `Shopper ${userId.slice(0, 8)}` }) }));
  const catalog = createClient(CatalogService, grpcAt(m.service("catalog").address, await m.signer.token({ subject: userId, roles: ["customer"] })));
  await catalog.createReview({ productId: order!.lines[0]!.productId, rating: 4, title: `review by ${userId}` });
  return { userId, token, email, order: order! };
}

test.serial("a signed-in user downloads their own data: a section per holder (identity, order, payment, shipping, cart, catalog, promotion), no secrets, nothing of another user", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { price: 1250, stock: 10 });
  const me = await shopper(m, sku);
  const someoneElse = await shopper(m, sku);

  // The parcel is made from the order's event: the download once it is there (waited for in shipping's
  // own database, so that the download is asked for once).
  await eventually("the order's shipment", async () => (await m.sql("shipping", "select 1 from shipment where order_id = $1", [me.order.id])).length > 0);
  // "unavailable — try again" is the contract's answer while a holder cannot be reached (the last test
  // proves it); on a loaded machine a holder of this in-process mesh has been seen missing for a moment,
  // so the download is asked for again then, for at most the wait's bound.
  const json = await eventually("the download", async () => {
    try {
      return (await identityClient(m, me.token).exportPersonalData({})).json;
    } catch (error) {
      if (ConnectError.from(error).code === Code.Unavailable) return undefined;
      throw error;
    }
  });
  const download = JSON.parse(json) as Download;
  t.is(download.user_id, me.userId);
  t.deepEqual(Object.keys(download.services).sort(), ["cart", "catalog", "identity", "order", "payment", "promotion", "shipping"]);

  const own = download.services.identity as { profile: Record<string, unknown>; mfa_enabled: boolean; addresses: Record<string, unknown>[]; sessions: unknown[] };
  t.is(own.profile.email, me.email);
  t.is(own.mfa_enabled, false);
  t.deepEqual(own.addresses.map((a) => a.recipient_name), [`Shopper ${me.userId.slice(0, 8)}`]);
  t.true(own.sessions.length >= 1, "the signed-in device is listed");
  for (const secret of ["password", "hash", "mfa_secret", "recovery", "refresh", "$argon2"]) t.false(json.includes(secret), `no ${secret} in the download`);

  const orders = (download.services.order as { orders: Record<string, unknown>[] }).orders;
  t.deepEqual(orders.map((o) => o.id), [me.order.id]);
  t.is(orders[0]!.total, me.order.totals!.total!.amountMinor.toString());
  t.is((orders[0]!.shipping_address as { recipientName: string }).recipientName, `Shopper ${me.userId.slice(0, 8)}`);
  t.deepEqual((orders[0]!.lines as Record<string, unknown>[]).map((l) => [l.sku, l.quantity]), [[sku, 2]]);

  const payments = (download.services.payment as { payments: Record<string, unknown>[] }).payments;
  t.deepEqual(payments.map((p) => [p.order_id, p.amount]), [[me.order.id, me.order.totals!.total!.amountMinor.toString()]]);

  const shipments = (download.services.shipping as { shipments: Record<string, unknown>[] }).shipments;
  t.deepEqual(shipments.map((s) => s.order_id), [me.order.id], "the paid order's parcel");
  t.deepEqual(download.services.cart, { active_cart: null }, "the cart became the order");

  const reviews = (download.services.catalog as { reviews: Record<string, unknown>[] }).reviews;
  t.deepEqual(reviews.map((r) => r.title), [`review by ${me.userId}`]);

  for (const theirs of [someoneElse.userId, someoneElse.email, someoneElse.order.id]) t.false(json.includes(theirs), "another user's data is not part of it");
});

test.serial("a guest and a service token are refused by ExportPersonalData", async (t) => {
  const m = mesh();
  t.is((await failure(identityClient(m).exportPersonalData({}))).code, Code.Unauthenticated);
  const { accessToken } = await identityClient(m).issueServiceToken({ service: "cart", clientSecret: DEVELOPMENT_SERVICE_CLIENT_SECRET });
  const service = await failure(identityClient(m, accessToken).exportPersonalData({}));
  t.is(service.code, Code.PermissionDenied);
});

test.serial("order's PersonalDataService answers identity with that user's orders only, and refuses cart's token", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { price: 500, stock: 10 });
  const [one, two] = [randomUUID(), randomUUID()];
  const place = async (userId: string) => (await (await m.orders.user(userId)).placeOrder(placeRequest(await userCart(m, userId, [{ sku, quantity: 1 }])))).order!;
  const mine = await place(one);
  await place(two);
  const holder = (subject: string) => m.signer.token({ subject, service: true });
  const asIdentity = createClient(PersonalDataService, grpcAt(m.order!.address, await holder("identity")));
  const part = JSON.parse((await asIdentity.exportPersonalData({ userId: one })).json) as { orders: { id: string; lines: unknown[] }[] };
  t.deepEqual(part.orders.map((o) => o.id), [mine.id]);
  t.is(part.orders[0]!.lines.length, 1);
  const asCart = createClient(PersonalDataService, grpcAt(m.order!.address, await holder("cart")));
  const refused = await failure(asCart.exportPersonalData({ userId: one }));
  t.is(refused.code, Code.PermissionDenied);
  t.is(refused.reason, "SERVICE_NOT_PERMITTED");
});

test.serial("with the catalog unreachable the download fails unavailable naming it, never a partial document", async (t) => {
  const m = mesh();
  const { token } = await m.signIn(`${randomUUID()}@example.com`);
  const outage = await m.outage("catalog");
  try {
    const refused = await failure(identityClient(m, token).exportPersonalData({}));
    t.is(refused.code, Code.Unavailable);
    t.is(refused.reason, "CATALOG_UNAVAILABLE");
    t.regex(refused.message, /the catalog service cannot be reached; no data was exported/);
  } finally {
    await outage.end();
  }
  const { json } = await identityClient(m, token).exportPersonalData({});
  t.truthy((JSON.parse(json) as Download).services.catalog, "back once the catalog is");
});
