// End-to-end through the edge only, against a private mesh (identity, catalog, inventory, cart,
// payment and order on the real PostgreSQL, NATS and Consul): a shopper's journey three ways (fetch
// JSON, @bazaar/client, gRPC via @grpc/grpc-js) from registration to checkout, a declined card, order
// history and cancellation; a staff journey; the guards; and the doors.
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import * as grpc from "@grpc/grpc-js";
import test from "ava";
import { createBazaarClient } from "@bazaar/client";
import {
  LoginRequestSchema,
  LoginResponseSchema,
} from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { CatalogService, SearchProductsRequestSchema, SearchProductsResponseSchema, GetProductRequestSchema, GetProductResponseSchema } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { ServerReflection } from "@bazaar/contracts/grpc/reflection/v1/reflection_pb";
import { ErrorInfoSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import {
  AddCartItemRequestSchema,
  AddCartItemResponseSchema,
  CreateCartRequestSchema,
  CreateCartResponseSchema,
  MergeCartRequestSchema,
  MergeCartResponseSchema,
} from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import {
  CancelOrderRequestSchema,
  CancelOrderResponseSchema,
  ListMyOrdersRequestSchema,
  ListMyOrdersResponseSchema,
  OrderStatus,
  PlaceOrderRequestSchema,
  PlaceOrderResponseSchema,
} from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { eventually, getUrl, postJson, startMesh, unique, type Mesh } from "./helpers.ts";

const I = "bazaar.identity.v1.IdentityService";
const C = "bazaar.catalog.v1.CatalogService";
const V = "bazaar.inventory.v1.InventoryService";
const K = "bazaar.cart.v1.CartService";
const O = "bazaar.order.v1.OrderService";
const P = "bazaar.payment.v1.PaymentService";
const N = "bazaar.notification.v1.NotificationService";
const R = "bazaar.promotion.v1.PromotionService";

const shipTo = { recipientName: "Ada Lovelace", line1: "1 Main Street", city: "Springfield", region: "IL", postalCode: "62701", countryCode: "US" };

interface World {
  mesh: Mesh;
  url: string;
  address: string;
  admin: string;
  category: { id: string; slug: string };
  product: { id: string; name: string; sku: string };
  /** In stock (100 units) for the checkout journeys. */
  tape: { id: string; sku: string };
}
let world: World;

async function shopper(url: string) {
  const email = `${unique("shopper")}@example.com`;
  const password = `Tr0ub4dor-${unique("pw")}`;
  const registered = await postJson(url, `${I}/Register`, { email, password, displayName: "Edge Shopper" });
  if (registered.status !== 200) throw new Error(`register: ${JSON.stringify(registered.body)}`);
  const login = await postJson(url, `${I}/Login`, { email, password });
  return { email, password, userId: registered.body.user.id as string, tokens: login.body.tokens as { accessToken: string; refreshToken: string } };
}

test.before(async () => {
  const mesh = await startMesh();
  const { url } = await mesh.edge();
  const password = `Adm1n-${unique("pw")}`;
  await postJson(url, `${I}/Register`, { email: mesh.adminEmail, password, displayName: "Staff" });
  await mesh.bootstrapAdmin();
  const admin = (await postJson(url, `${I}/Login`, { email: mesh.adminEmail, password })).body.tokens.accessToken as string;
  const tag = unique("t").slice(2);
  const category = (await postJson(url, `${C}/CreateCategory`, { category: { name: "Tools", slug: `tools-${tag}` } }, admin)).body.category;
  const name = `Claw Hammer ${tag}`;
  const sku = `HAM-${tag.toUpperCase()}`;
  const created = await postJson(
    url,
    `${C}/CreateProduct`,
    {
      product: {
        slug: `claw-hammer-${tag}`,
        name,
        categoryId: category.id,
        status: "PRODUCT_STATUS_ACTIVE",
        imageUrls: [`https://images.example.com/${tag}.jpg`],
        variants: [{ sku, prices: [{ currencyCode: "USD", amountMinor: "1999" }] }],
      },
    },
    admin,
  );
  if (created.status !== 200) throw new Error(`create product: ${JSON.stringify(created.body)}`);
  const tapeSku = `TAPE-${tag.toUpperCase()}`;
  // Its own category, so the browsing tests see the hammer alone.
  const measuring = (await postJson(url, `${C}/CreateCategory`, { category: { name: "Measuring", slug: `measuring-${tag}` } }, admin)).body.category;
  const tape = await postJson(
    url,
    `${C}/CreateProduct`,
    {
      product: {
        slug: `tape-measure-${tag}`,
        name: `Tape Measure ${tag}`,
        categoryId: measuring.id,
        status: "PRODUCT_STATUS_ACTIVE",
        variants: [{ sku: tapeSku, prices: [{ currencyCode: "USD", amountMinor: "1299" }] }],
      },
    },
    admin,
  );
  if (tape.status !== 200) throw new Error(`create product: ${JSON.stringify(tape.body)}`);
  const stocked = await postJson(url, `${V}/ReceiveStock`, { sku: tapeSku, quantity: "100", note: "opening stock" }, admin);
  if (stocked.status !== 200) throw new Error(`receive stock: ${JSON.stringify(stocked.body)}`);
  world = { mesh, url, address: meshAddress(url), admin, category, product: { id: created.body.product.id, name, sku }, tape: { id: tape.body.product.id, sku: tapeSku } };
});

const meshAddress = (url: string) => new URL(url).host;

test.after.always(async () => {
  await world?.mesh.stop();
});

/** The ErrorInfo reason of a Connect JSON error body. */
function reasonOf(body: { details?: Array<{ type: string; value: string }> }): string | undefined {
  const info = body.details?.find((d) => d.type === "google.rpc.ErrorInfo");
  return info ? fromBinary(ErrorInfoSchema, Buffer.from(info.value, "base64")).reason : undefined;
}

test("a shopper registers, signs in, searches and browses a category as plain JSON; the GET is cached and revalidates to 304", async (t) => {
  const { url, product, category } = world;
  const me = await shopper(url);
  t.truthy(me.tokens.accessToken, "login through the edge returned tokens");
  const profile = await postJson(url, `${I}/GetUser`, { userId: me.userId }, me.tokens.accessToken);
  t.is(profile.status, 200);
  t.is(profile.body.user.email, me.email);

  const found = await eventually("the product to be searchable", async () => {
    const r = await postJson(url, `${C}/SearchProducts`, { query: "claw hammer" });
    return r.body.products?.find((p: { id: string }) => p.id === product.id);
  });
  t.is(found.name, product.name);

  const browse = getUrl(url, `${C}/ListProducts`, { filter: { categoryId: category.id } });
  const first = await fetch(browse);
  t.is(first.status, 200);
  const body = (await first.json()) as { products: { id: string; variants: { prices: { amountMinor: string }[] }[] }[] };
  t.deepEqual(body.products.map((p) => p.id), [product.id]);
  t.is(body.products[0]!.variants[0]!.prices[0]!.amountMinor, "1999", "int64 as a JSON string");
  const etag = first.headers.get("etag");
  t.regex(etag ?? "", /^"[A-Za-z0-9_-]+"$/, "a strong ETag");
  t.regex(first.headers.get("cache-control") ?? "", /^public, max-age=\d+$/);
  const again = await fetch(browse, { headers: { "if-none-match": etag! } });
  t.is(again.status, 304);
  t.is(again.headers.get("etag"), etag);
  t.is((await again.arrayBuffer()).byteLength, 0);
  const fromEdgeCache = await fetch(browse);
  t.is(fromEdgeCache.headers.get("x-cache"), "hit", "public reads are answered from the edge's cache within max-age");
  t.is(fromEdgeCache.headers.get("etag"), etag);
  t.deepEqual(await fromEdgeCache.json(), body);

  const signedIn = await fetch(browse, { headers: { authorization: `Bearer ${me.tokens.accessToken}` } });
  t.is(signedIn.status, 200);
  t.is(signedIn.headers.get("cache-control"), "private, no-store", "a caller-dependent answer is never cached publicly");
  t.is(signedIn.headers.get("x-cache"), null, "nor answered from the shared cache");
  const mine = await fetch(getUrl(url, `${I}/ListAddresses`, { userId: me.userId }), { headers: { authorization: `Bearer ${me.tokens.accessToken}` } });
  t.is(mine.status, 200, await mine.clone().text());
  t.is(mine.headers.get("cache-control"), "private, no-store");
});

test("a signed-in user downloads their data through the edge as plain JSON, a section per service; a guest gets 401", async (t) => {
  const { url } = world;
  const me = await shopper(url);
  const download = await postJson(url, `${I}/ExportPersonalData`, {}, me.tokens.accessToken);
  t.is(download.status, 200, JSON.stringify(download.body));
  const document = JSON.parse(download.body.json as string) as { user_id: string; services: Record<string, unknown> };
  t.is(document.user_id, me.userId);
  t.deepEqual(Object.keys(document.services).sort(), ["cart", "catalog", "identity", "order", "payment", "promotion", "returns", "shipping"]);
  t.is((document.services.identity as { profile: { email: string } }).profile.email, me.email);
  t.is((await postJson(url, `${I}/ExportPersonalData`, {})).status, 401);
});

test("a guest fills a cart as plain JSON, signs in and merges it, checks out, is declined on a second card, sees the history and cancels", async (t) => {
  const { url, tape } = world;
  const guest = await postJson(url, `${K}/CreateCart`, { currencyCode: "USD" });
  t.is(guest.status, 200, JSON.stringify(guest.body));
  const cartToken = guest.body.cartToken as string;
  t.truthy(cartToken, "a new guest cart comes with its token");
  const asGuest = { "x-cart-token": cartToken };
  const added = await postJson(url, `${K}/AddCartItem`, { cartId: guest.body.cart.id, sku: tape.sku, quantity: 2 }, undefined, asGuest);
  t.is(added.status, 200, JSON.stringify(added.body));
  t.is(added.body.cart.lines[0].unitPrice.amountMinor, "1299", "the price comes from the catalog");
  const viewed = await fetch(getUrl(url, `${K}/GetCart`, { cartId: guest.body.cart.id }), { headers: asGuest });
  t.is(viewed.status, 200);
  t.is(viewed.headers.get("cache-control"), "private, no-store", "a guest's cart is never cached publicly");
  const stranger = await postJson(url, `${K}/GetCart`, { cartId: guest.body.cart.id });
  t.is(stranger.body.code, "not_found", "without the cart's token the cart does not exist");

  const me = await shopper(url);
  const merged = await postJson(url, `${K}/MergeCart`, { guestCartId: guest.body.cart.id }, me.tokens.accessToken, asGuest);
  t.is(merged.status, 200, JSON.stringify(merged.body));
  t.is(merged.body.cart.userId, me.userId);
  t.is(merged.body.cart.itemCount, 2);

  const key = unique("checkout");
  const checkout = { shippingAddress: shipTo, shippingOptionId: "standard", paymentMethod: "pm_test_ok", idempotencyKey: key };
  const placed = await postJson(url, `${O}/PlaceOrder`, checkout, me.tokens.accessToken);
  t.is(placed.status, 200, JSON.stringify(placed.body));
  t.is(placed.body.order.status, "ORDER_STATUS_CONFIRMED");
  t.is(placed.body.order.lines[0].quantity, 2);
  const repeated = await postJson(url, `${O}/PlaceOrder`, checkout, me.tokens.accessToken);
  t.is(repeated.body.order.id, placed.body.order.id, "the same idempotency key returns the same order");

  await postJson(url, `${K}/AddCartItem`, { sku: tape.sku, quantity: 1 }, me.tokens.accessToken);
  const declined = await postJson(url, `${O}/PlaceOrder`, { ...checkout, paymentMethod: "pm_test_declined", idempotencyKey: unique("checkout") }, me.tokens.accessToken);
  t.is(declined.body.code, "failed_precondition", JSON.stringify(declined.body));
  t.regex(declined.body.message, /declined/i);
  const cartAfter = await postJson(url, `${K}/GetCart`, {}, me.tokens.accessToken);
  t.is(cartAfter.body.cart.itemCount, 1, "a declined checkout leaves the cart as it was");

  const history = await postJson(url, `${O}/ListMyOrders`, {}, me.tokens.accessToken);
  t.is(history.status, 200);
  const statuses = Object.fromEntries(history.body.orders.map((o: { id: string; status: string }) => [o.id, o.status]));
  t.is(statuses[placed.body.order.id], "ORDER_STATUS_CONFIRMED");
  t.true(Object.values(statuses).includes("ORDER_STATUS_REJECTED"), "the declined attempt is in the history too");

  const cancelled = await postJson(url, `${O}/CancelOrder`, { orderId: placed.body.order.id, reason: "changed my mind" }, me.tokens.accessToken);
  t.is(cancelled.status, 200, JSON.stringify(cancelled.body));
  t.is(cancelled.body.order.status, "ORDER_STATUS_CANCELLED");
  const other = await shopper(url);
  const foreign = await postJson(url, `${O}/GetOrder`, { orderId: placed.body.order.id }, other.tokens.accessToken);
  t.is(foreign.body.code, "not_found", "another customer's order does not exist for them");
});

test("staff create a promotion code; a guest applies it (any case) as plain JSON, sees the discount with its label and allocation, and checks out with it", async (t) => {
  const { url, tape, admin } = world;
  const code = `EDGE${unique("c").slice(2).toUpperCase()}`;
  const created = await postJson(
    url,
    `${R}/CreatePromotion`,
    { promotion: { name: "10 % off, edge", code, conditions: { everything: true }, action: { orderPercentOff: { percentBps: 1000 } }, usageLimit: "5" } },
    admin,
  );
  t.is(created.status, 200, JSON.stringify(created.body));
  const promotionId = created.body.promotion.id as string;

  const guest = await postJson(url, `${K}/CreateCart`, { currencyCode: "USD" });
  const cartId = guest.body.cart.id as string;
  const asGuest = { "x-cart-token": guest.body.cartToken as string };
  await postJson(url, `${K}/AddCartItem`, { cartId, sku: tape.sku, quantity: 2 }, undefined, asGuest);
  const unknown = await postJson(url, `${K}/ApplyPromotionCode`, { cartId, code: "NOT-A-CODE" }, undefined, asGuest);
  t.is(unknown.body.code, "failed_precondition");
  t.is(reasonOf(unknown.body), "PROMOTION_CODE_UNKNOWN");
  const applied = await postJson(url, `${K}/ApplyPromotionCode`, { cartId, code: code.toLowerCase() }, undefined, asGuest);
  t.is(applied.status, 200, JSON.stringify(applied.body));
  const totals = applied.body.cart.totals;
  t.is(totals.discount.amountMinor, "260", "10 % of 2 × 12.99");
  t.deepEqual(
    totals.promotions.map((p: { label: string; code: string; allocations: Array<{ sku: string; amountMinor: string }> }) => [p.label, p.code, p.allocations]),
    [["10 % off, edge", code, [{ sku: tape.sku, amountMinor: "260" }]]],
  );
  const internal = await postJson(url, `${R}/EvaluateCart`, { currencyCode: "USD" }, admin);
  t.is(internal.status, 404, "the evaluation is internal: not routed");

  const placed = await postJson(
    url,
    `${O}/PlaceOrder`,
    { cartId, email: "promo-guest@example.com", shippingAddress: shipTo, shippingOptionId: "standard", paymentMethod: "pm_test_ok", idempotencyKey: unique("checkout") },
    undefined,
    asGuest,
  );
  t.is(placed.status, 200, JSON.stringify(placed.body));
  t.is(placed.body.order.status, "ORDER_STATUS_CONFIRMED");
  t.is(placed.body.order.totals.discount.amountMinor, "260");
  const figures = await postJson(url, `${R}/GetPromotion`, { promotionId }, admin);
  t.is(figures.body.promotion.redemptionCount, "1");
  t.deepEqual(figures.body.promotion.givenAway, [{ amountMinor: "260", currencyCode: "USD" }]);
  const asShopper = await shopper(url);
  t.is((await postJson(url, `${R}/ListPromotions`, {}, asShopper.tokens.accessToken)).body.code, "permission_denied");
});

test("a guest checks out with a real shipping quote as plain JSON, follows the parcel to DELIVERED, and returns it for a partial refund", async (t) => {
  const { url, tape, admin } = world;
  const S = "bazaar.shipping.v1.ShippingService";
  const guest = await postJson(url, `${K}/CreateCart`, { currencyCode: "USD" });
  const asGuest = { "x-cart-token": guest.body.cartToken as string };
  const cartId = guest.body.cart.id as string;
  await postJson(url, `${K}/AddCartItem`, { cartId, sku: tape.sku, quantity: 1 }, undefined, asGuest);
  const options = await postJson(url, `${K}/ListShippingOptions`, { countryCode: "US", currencyCode: "USD" });
  t.deepEqual(options.body.options.map((o: { id: string }) => o.id), ["standard", "express"]);
  const shipping = await postJson(
    url,
    `${K}/SetCartShipping`,
    { cartId, shipping: { countryCode: shipTo.countryCode, region: shipTo.region, postalCode: shipTo.postalCode, shippingOptionId: "express" } },
    undefined,
    asGuest,
  );
  t.is(shipping.status, 200, JSON.stringify(shipping.body));
  const quoteId = shipping.body.cart.shipping.quoteId as string;
  t.truthy(quoteId, "the cart names the quote its totals use");
  const quoted = shipping.body.cart.totals.shipping.amountMinor as string;

  const placed = await postJson(
    url,
    `${O}/PlaceOrder`,
    { cartId, shippingAddress: shipTo, shippingOptionId: "express", shippingQuoteId: quoteId, paymentMethod: "pm_test_ok", email: "parcel@example.com", idempotencyKey: unique("checkout") },
    undefined,
    asGuest,
  );
  t.is(placed.status, 200, JSON.stringify(placed.body));
  const orderId = placed.body.order.id as string;
  t.is(placed.body.order.totals.shipping.amountMinor, quoted, "the order's shipping is exactly the quoted price");

  // The guest follows the parcel with the cart token; nobody else sees it.
  const shipments = await eventually("the order's shipment", async () => {
    const listed = await postJson(url, `${S}/ListOrderShipments`, { orderId }, undefined, asGuest);
    return listed.status === 200 ? (listed.body.shipments as { id: string; status: string }[]) : undefined;
  });
  t.is(shipments.length, 1);
  t.is(shipments[0]!.status, "SHIPMENT_STATUS_PENDING");
  const stranger = await postJson(url, `${S}/ListOrderShipments`, { orderId });
  t.is(stranger.body.code, "not_found");
  const other = await shopper(url);
  t.is((await postJson(url, `${S}/GetShipment`, { id: shipments[0]!.id }, other.tokens.accessToken)).body.code, "not_found");

  // Staff fulfil it through the edge; the carrier reports it delivered.
  const id = shipments[0]!.id;
  t.is((await postJson(url, `${S}/PackShipment`, { id }, admin)).status, 200);
  const labelled = await postJson(url, `${S}/BuyShipmentLabel`, { id }, admin);
  t.is(labelled.status, 200, JSON.stringify(labelled.body));
  t.is((await postJson(url, `${S}/ShipShipment`, { id }, admin)).status, 200);
  const delivered = await postJson(
    url,
    `${S}/RecordTrackingUpdate`,
    { trackingNumber: labelled.body.shipment.trackingNumber, status: "TRACKING_STATUS_DELIVERED", location: "Springfield, IL", updateId: unique("evt") },
    admin,
  );
  t.is(delivered.status, 200, JSON.stringify(delivered.body));
  t.is((await postJson(url, `${S}/PackShipment`, { id }, other.tokens.accessToken)).body.code, "permission_denied");

  const order = await eventually("the order DELIVERED", async () => {
    const read = await postJson(url, `${O}/GetOrder`, { orderId }, undefined, asGuest);
    return read.body.order?.status === "ORDER_STATUS_DELIVERED" ? read.body.order : undefined;
  });
  t.deepEqual(
    order.history.map((h: { status: string }) => h.status),
    ["ORDER_STATUS_PENDING", "ORDER_STATUS_CONFIRMED", "ORDER_STATUS_FULFILLING", "ORDER_STATUS_SHIPPED", "ORDER_STATUS_DELIVERED"],
  );
  const tracked = await postJson(url, `${S}/GetShipment`, { id }, undefined, asGuest);
  t.deepEqual(tracked.body.shipment.events.map((e: { kind: string }) => e.kind), ["created", "packed", "labelled", "shipped", "delivered"]);
  t.is(tracked.body.shipment.labelUrl, undefined, "shoppers do not see the label");

  // The guest sends nothing back that is not theirs, then returns the parcel's unit; staff approve
  // with a return label, receive it resellable and refund it: the order shows the partial refund.
  const RS = "bazaar.returns.v1.ReturnsService";
  const request = { orderId, lines: [{ sku: tape.sku, quantity: 1 }], reason: "RETURN_REASON_CHANGED_MIND", comment: "not needed" };
  t.is((await postJson(url, `${RS}/RequestReturn`, request)).body.code, "not_found", "not without the cart token");
  const requested = await postJson(url, `${RS}/RequestReturn`, request, undefined, asGuest);
  t.is(requested.status, 200, JSON.stringify(requested.body));
  const returnId = requested.body.return.id as string;
  t.is((await postJson(url, `${RS}/ApproveReturn`, { returnId }, other.tokens.accessToken)).body.code, "permission_denied");
  const approved = await postJson(url, `${RS}/ApproveReturn`, { returnId, buyLabel: true }, admin);
  t.is(approved.body.return.status, "RETURN_STATUS_APPROVED", JSON.stringify(approved.body));
  t.regex(approved.body.return.label.labelUrl as string, /\/labels\/TEST\d{18}\.pdf$/, "a return label from the order's carrier");
  t.deepEqual((await postJson(url, `${RS}/GetReturn`, { returnId }, undefined, asGuest)).body.return.label, approved.body.return.label, "the shopper prints it");
  t.is((await postJson(url, `${RS}/ReceiveReturn`, { returnId, lines: [{ sku: tape.sku, resellable: 1 }] }, admin)).body.return.status, "RETURN_STATUS_RECEIVED");
  const refunded = await postJson(url, `${RS}/RefundReturn`, { returnId }, admin);
  t.is(refunded.body.return.status, "RETURN_STATUS_REFUNDED", JSON.stringify(refunded.body));
  const refundedMinor = BigInt(refunded.body.return.refunded.amountMinor as string);
  t.true(refundedMinor > 0n && refundedMinor < BigInt(order.totals.total.amountMinor as string), "the unit, not the shipping");
  const after = await postJson(url, `${O}/GetOrder`, { orderId }, undefined, asGuest);
  t.is(after.body.order.paymentStatus, "ORDER_PAYMENT_STATUS_PARTIALLY_REFUNDED");
  t.is(after.body.order.refunded.amountMinor, refunded.body.return.refunded.amountMinor);
  const mine = await postJson(url, `${RS}/ListOrderReturns`, { orderId }, undefined, asGuest);
  t.deepEqual(mine.body.returns.map((r: { id: string }) => r.id), [returnId]);
});

test("a guest cancels their order before it ships with the cart token as plain JSON; without it the order is not_found", async (t) => {
  const { url, tape, admin } = world;
  const guest = await postJson(url, `${K}/CreateCart`, { currencyCode: "USD" });
  const asGuest = { "x-cart-token": guest.body.cartToken as string };
  const cartId = guest.body.cart.id as string;
  await postJson(url, `${K}/AddCartItem`, { cartId, sku: tape.sku, quantity: 1 }, undefined, asGuest);
  const placed = await postJson(
    url,
    `${O}/PlaceOrder`,
    { cartId, shippingAddress: shipTo, shippingOptionId: "standard", paymentMethod: "pm_test_ok", email: "cancel@example.com", idempotencyKey: unique("checkout") },
    undefined,
    asGuest,
  );
  t.is(placed.status, 200, JSON.stringify(placed.body));
  const orderId = placed.body.order.id as string;
  t.is((await postJson(url, `${O}/UpdateOrderStatus`, { orderId, status: "ORDER_STATUS_FULFILLING" }, admin)).status, 200);
  t.is((await postJson(url, `${O}/CancelOrder`, { orderId })).body.code, "not_found");
  const cancelled = await postJson(url, `${O}/CancelOrder`, { orderId, reason: "changed my mind" }, undefined, asGuest);
  t.is(cancelled.body.order?.status, "ORDER_STATUS_CANCELLED", JSON.stringify(cancelled.body));
  t.is(cancelled.body.order.paymentStatus, "ORDER_PAYMENT_STATUS_REFUNDED");
});

test("the typed client signs in, browses with GET and refreshes a rejected access token transparently", async (t) => {
  const { url, product, category } = world;
  const me = await shopper(url);
  const seen: string[] = [];
  const client = createBazaarClient({
    baseUrl: url,
    fetch: (input, init) => {
      seen.push(`${init?.method ?? "GET"} ${String(input).split("?")[0]!.split("/").pop()}`);
      return fetch(input, init);
    },
  });
  await client.signIn(me.email, me.password);
  const { products } = await client.catalog.listProducts({ filter: { categoryId: category.id } });
  t.deepEqual(products.map((p) => p.id), [product.id]);
  t.true(seen.includes("GET ListProducts"), "read-only methods go as HTTP GET");
  const search = await client.catalog.searchProducts({ query: "claw hammer" });
  t.true(search.products.some((p) => p.id === product.id));

  // An access token the edge refuses (as an expired one would be): the client refreshes once and retries.
  const stale = createBazaarClient({ baseUrl: url, tokens: { accessToken: "expired.token.value", refreshToken: client.tokens()!.refreshToken } });
  const user = await stale.identity.getUser({ userId: me.userId });
  t.is(user.user?.email, me.email);
  t.not(stale.tokens()!.accessToken, "expired.token.value", "new tokens were stored");

  const anonymous = createBazaarClient({ baseUrl: url });
  const failure = await t.throwsAsync(anonymous.identity.getUser({ userId: me.userId }));
  t.is(ConnectError.from(failure).code, Code.Unauthenticated);
});

function grpcUnary<I extends DescMessage, O extends DescMessage>(client: grpc.Client, path: string, input: I, output: O, request: object, metadata = new grpc.Metadata()) {
  return new Promise<ReturnType<typeof fromBinary<O>>>((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (value: object) => Buffer.from(toBinary(input, create(input, value as never))),
      (bytes: Buffer) => fromBinary(output, bytes),
      request,
      metadata,
      (error, value) => (error ? reject(error) : resolve(value!)),
    );
  });
}

test("a gRPC client (@grpc/grpc-js) signs in and searches the catalog through the edge", async (t) => {
  const { url, address, product } = world;
  const me = await shopper(url);
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const login = await grpcUnary(client, `/${I}/Login`, LoginRequestSchema, LoginResponseSchema, { email: me.email, password: me.password });
  t.truthy(login.tokens?.accessToken);
  const found = await grpcUnary(client, `/${C}/SearchProducts`, SearchProductsRequestSchema, SearchProductsResponseSchema, { query: "claw hammer" });
  t.true(found.products.some((p) => p.id === product.id));
  const got = await grpcUnary(client, `/${C}/GetProduct`, GetProductRequestSchema, GetProductResponseSchema, { id: product.id });
  t.is(got.product?.name, product.name);
  const hidden = await t.throwsAsync(grpcUnary(client, `/${V}/ReserveStock`, GetProductRequestSchema, GetProductResponseSchema, {}));
  t.is((hidden as grpc.ServiceError).code, grpc.status.NOT_FOUND, "a non-public method is not found over gRPC too");
  t.regex((hidden as grpc.ServiceError).details, /no such method or path: POST \/bazaar\.inventory\.v1\.InventoryService\/ReserveStock/);
});

test("the typed client keeps a guest cart's token, merges the cart when it signs in, checks out, is declined, lists and cancels its orders", async (t) => {
  const { url, tape } = world;
  const me = await shopper(url);
  const client = createBazaarClient({ baseUrl: url });
  await client.cart.createCart({ currencyCode: "USD" });
  const guest = client.guestCart();
  t.truthy(guest?.cartToken, "CreateCart's token is kept");
  await client.cart.addCartItem({ cartId: guest!.cartId, sku: tape.sku, quantity: 1 });
  t.is((await client.cart.getCart({ cartId: guest!.cartId })).cart?.itemCount, 1, "the guest reads its cart with the kept token");

  await client.signIn(me.email, me.password);
  t.is(client.guestCart(), undefined, "signing in merged and forgot the guest cart");
  const mine = (await client.cart.getCart({})).cart!;
  t.is(mine.userId, me.userId);
  t.is(mine.itemCount, 1);

  const checkout = { shippingAddress: shipTo, shippingOptionId: "express", paymentMethod: "pm_test_ok" };
  const { order } = await client.orders.placeOrder({ ...checkout, idempotencyKey: unique("checkout") });
  t.is(order?.status, OrderStatus.CONFIRMED);
  t.is(order?.email, me.email, "a signed-in buyer's email comes from the account");

  await client.cart.addCartItem({ sku: tape.sku, quantity: 1 });
  const declined = ConnectError.from(
    await t.throwsAsync(client.orders.placeOrder({ ...checkout, paymentMethod: "pm_test_insufficient_funds", idempotencyKey: unique("checkout") })),
  );
  t.is(declined.code, Code.FailedPrecondition);
  t.is(declined.findDetails(ErrorInfoSchema)[0]?.reason, "INSUFFICIENT_FUNDS");

  const { orders } = await client.orders.listMyOrders({});
  t.deepEqual(orders.map((o) => o.status).sort(), [OrderStatus.CONFIRMED, OrderStatus.REJECTED].sort());
  const cancelled = await client.orders.cancelOrder({ orderId: order!.id });
  t.is(cancelled.order?.status, OrderStatus.CANCELLED);
});

test("a gRPC client (@grpc/grpc-js) fills a guest cart, signs in and merges it, checks out, is declined, lists and cancels", async (t) => {
  const { url, address, tape } = world;
  const me = await shopper(url);
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const metadata = (entries: Record<string, string>) => {
    const m = new grpc.Metadata();
    for (const [k, v] of Object.entries(entries)) m.set(k, v);
    return m;
  };
  const created = await grpcUnary(client, `/${K}/CreateCart`, CreateCartRequestSchema, CreateCartResponseSchema, { currencyCode: "USD" });
  const asGuest = { "x-cart-token": created.cartToken };
  await grpcUnary(client, `/${K}/AddCartItem`, AddCartItemRequestSchema, AddCartItemResponseSchema, { cartId: created.cart!.id, sku: tape.sku, quantity: 3 }, metadata(asGuest));
  const login = await grpcUnary(client, `/${I}/Login`, LoginRequestSchema, LoginResponseSchema, { email: me.email, password: me.password });
  const bearer = { authorization: `Bearer ${login.tokens!.accessToken}` };
  const merged = await grpcUnary(client, `/${K}/MergeCart`, MergeCartRequestSchema, MergeCartResponseSchema, { guestCartId: created.cart!.id }, metadata({ ...bearer, ...asGuest }));
  t.is(merged.cart?.itemCount, 3);

  const checkout = { shippingAddress: shipTo, shippingOptionId: "standard", paymentMethod: "pm_test_ok", idempotencyKey: unique("checkout") };
  const placed = await grpcUnary(client, `/${O}/PlaceOrder`, PlaceOrderRequestSchema, PlaceOrderResponseSchema, checkout, metadata(bearer));
  t.is(placed.order?.status, OrderStatus.CONFIRMED);
  t.is(placed.order?.lines[0]?.quantity, 3);

  await grpcUnary(client, `/${K}/AddCartItem`, AddCartItemRequestSchema, AddCartItemResponseSchema, { sku: tape.sku, quantity: 1 }, metadata(bearer));
  const declined = await t.throwsAsync(
    grpcUnary(client, `/${O}/PlaceOrder`, PlaceOrderRequestSchema, PlaceOrderResponseSchema, { ...checkout, paymentMethod: "pm_test_declined", idempotencyKey: unique("checkout") }, metadata(bearer)),
  );
  t.is((declined as grpc.ServiceError).code, grpc.status.FAILED_PRECONDITION);

  const history = await grpcUnary(client, `/${O}/ListMyOrders`, ListMyOrdersRequestSchema, ListMyOrdersResponseSchema, {}, metadata(bearer));
  t.is(history.orders.length, 2);
  const cancelled = await grpcUnary(client, `/${O}/CancelOrder`, CancelOrderRequestSchema, CancelOrderResponseSchema, { orderId: placed.order!.id }, metadata(bearer));
  t.is(cancelled.order?.status, OrderStatus.CANCELLED);

  // Staff see the order, cancelled, when they search by the customer's email.
  const staff = await postJson(url, `${O}/ListOrders`, { query: me.email }, world.admin);
  t.is(staff.status, 200, JSON.stringify(staff.body));
  t.true(staff.body.orders.some((o: { id: string; status: string }) => o.id === placed.order!.id && o.status === "ORDER_STATUS_CANCELLED"));
  const refused = await postJson(url, `${O}/ListOrders`, {}, login.tokens!.accessToken);
  t.is(refused.body.code, "permission_denied");
});

test("staff create a product and receive stock through the edge; a customer calling an admin method gets permission_denied", async (t) => {
  const { url, admin, product } = world;
  // The product was created by staff through the edge (CreateProduct in the before hook).
  const created = await postJson(url, `${C}/GetProduct`, { id: product.id });
  t.is(created.body.product.name, product.name);
  t.is(created.body.product.variants[0].sku, product.sku);
  const received = await postJson(url, `${V}/ReceiveStock`, { sku: product.sku, quantity: "25", note: "delivery 1" }, admin);
  t.is(received.status, 200, JSON.stringify(received.body));
  const level = await postJson(url, `${V}/GetStockLevel`, { sku: product.sku });
  t.is(level.status, 200);
  t.is(level.body.stock.available, "25");

  const me = await shopper(url);
  const denied = await postJson(url, `${V}/ReceiveStock`, { sku: product.sku, quantity: "5" }, me.tokens.accessToken);
  t.is(denied.status, 403);
  t.is(denied.body.code, "permission_denied");
  const anonymous = await postJson(url, `${C}/CreateCategory`, { category: { name: "X", slug: "x" } });
  t.is(anonymous.status, 401);
  t.is(anonymous.body.code, "unauthenticated");
  const forged = await postJson(url, `${C}/ListReviews`, { productId: product.id }, "not-a-jwt");
  t.is(forged.body.code, "unauthenticated");
});

test("methods not on the public surface, unknown paths, malformed JSON and oversize bodies get one clear error shape", async (t) => {
  const { url } = world;
  const internal = await postJson(url, `${V}/ReserveStock`, {});
  t.is(internal.status, 404);
  t.is(internal.body.code, "not_found");
  const rotate = await postJson(url, `${I}/RotateSigningKey`, {}, world.admin);
  t.is(rotate.body.code, "not_found", "even for an admin");
  const serviceToken = await postJson(url, `${I}/IssueServiceToken`, { service: "order", clientSecret: "development-only-service-secret" });
  t.is(serviceToken.body.code, "not_found", "service tokens are never handed out through the edge");
  const reserve = await postJson(url, `${K}/PrepareCheckout`, { cartId: "x" }, world.admin);
  t.is(reserve.body.code, "not_found", "the order service's steps are not public");
  const unknown = await fetch(`${url}/nope`);
  t.is(unknown.status, 404);
  t.deepEqual(Object.keys((await unknown.json()) as object).sort(), ["code", "message"]);

  const malformed = await fetch(`${url}/${C}/SearchProducts`, { method: "POST", headers: { "content-type": "application/json" }, body: "{ query: " });
  t.is(malformed.status, 400);
  t.is(((await malformed.json()) as { code: string }).code, "invalid_argument");

  const oversize = await fetch(`${url}/${C}/SearchProducts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "x".repeat(2 * 1024 * 1024) }),
  });
  t.is(oversize.status, 413);
  const oversizeBody = (await oversize.json()) as { code: string; message: string };
  t.is(oversizeBody.code, "resource_exhausted");
  t.regex(oversizeBody.message, /exceeds the limit/);

  const invalid = await postJson(url, `${C}/SearchProducts`, { query: "   " });
  t.is(invalid.body.code, "invalid_argument", "the service's own validation comes through");
  t.regex(invalid.body.message, /query/);

  const misspelt = await postJson(url, `${C}/SearchProducts`, { query: "lamp", pageSzie: 5 });
  t.is(misspelt.body.code, "invalid_argument", "a field the contract lacks is refused, not ignored");
  t.regex(misspelt.body.message, /"pageSzie" is unknown/);
});

test("answers are compressed when asked, gzip or brotli, and decode to the same JSON", async (t) => {
  const { url, admin } = world;
  const tag = unique("zip");
  const category = (await postJson(url, `${C}/CreateCategory`, { category: { name: "Compression", slug: `compression-${tag}` } }, admin)).body.category;
  const product = {
    slug: `long-story-${tag}`,
    name: `Long Story ${tag}`,
    categoryId: category.id,
    // Above Connect's 1 KiB threshold for compressing an answer.
    description: "A product with a long description. ".repeat(100),
    variants: [{ sku: `LONG-${tag.toUpperCase()}`, prices: [{ currencyCode: "USD", amountMinor: "500" }] }],
  };
  const created = await postJson(url, `${C}/CreateProduct`, { product }, admin);
  t.is(created.status, 200);
  for (const encoding of ["gzip", "br"]) {
    // fetch decodes the body itself; the header says what crossed the wire.
    const got = await postJson(url, `${C}/GetProduct`, { id: created.body.product.id }, admin, { "accept-encoding": encoding });
    t.is(got.status, 200, encoding);
    t.is(got.headers.get("content-encoding"), encoding);
    t.deepEqual(got.body.product, created.body.product, encoding);
  }
});

test("past the per-address limit from Consul KV, calls get 429 resource_exhausted with Retry-After", async (t) => {
  const key = `bazaar/edge-test/${unique("limits")}`;
  const consul = `http://${process.env.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500"}`;
  t.teardown(() => fetch(`${consul}/v1/kv/${key}`, { method: "DELETE" }).then(() => undefined));
  const { url, edge } = await world.mesh.edge({ rateLimitsKey: key });
  const tight = { perAddress: { perSecond: 0.1, burst: 3 }, perUser: { perSecond: 0.1, burst: 3 } };
  await fetch(`${consul}/v1/kv/${key}`, { method: "PUT", body: JSON.stringify(tight) });
  await eventually("the edge to read the new limits", async () => edge.rateLimits().perAddress.burst === 3);
  const statuses: number[] = [];
  let limited: Response | undefined;
  for (let i = 0; i < 5; i++) {
    const response = await fetch(getUrl(url, `${C}/GetProduct`, { id: world.product.id }));
    statuses.push(response.status);
    if (response.status === 429) limited = response;
    else await response.arrayBuffer();
  }
  t.deepEqual(statuses, [200, 200, 200, 429, 429]);
  t.regex(limited!.headers.get("retry-after") ?? "", /^\d+$/);
  t.is(((await limited!.json()) as { code: string }).code, "resource_exhausted");
});

test("past the per-user limit from Consul KV, a signed-in user gets 429 resource_exhausted with Retry-After over Connect", async (t) => {
  const key = `bazaar/edge-test/${unique("limits")}`;
  const consul = `http://${process.env.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500"}`;
  t.teardown(() => fetch(`${consul}/v1/kv/${key}`, { method: "DELETE" }).then(() => undefined));
  const { url, edge } = await world.mesh.edge({ rateLimitsKey: key });
  const me = await shopper(url);
  await fetch(`${consul}/v1/kv/${key}`, { method: "PUT", body: JSON.stringify({ perAddress: { perSecond: 1000, burst: 1000 }, perUser: { perSecond: 0.1, burst: 2 } }) });
  await eventually("the edge to read the new limits", async () => edge.rateLimits().perUser.burst === 2);
  const client = createBazaarClient({ baseUrl: url, tokens: me.tokens, useHttpGet: false });
  await client.identity.getUser({ userId: me.userId });
  await client.identity.getUser({ userId: me.userId });
  const failure = ConnectError.from(await t.throwsAsync(client.identity.getUser({ userId: me.userId })));
  t.is(failure.code, Code.ResourceExhausted);
  t.regex(failure.metadata.get("retry-after") ?? "", /^\d+$/);
  const anonymous = await fetch(getUrl(url, `${C}/GetProduct`, { id: world.product.id }));
  t.is(anonymous.status, 200, "the limit is the user's, not the address's");
});

test("reflection lists only the public services; openapi, docs, JWKS, health and CORS are served, metrics are not", async (t) => {
  const { url } = world;
  const reflection = createClient(ServerReflection, createGrpcTransport({ baseUrl: url }));
  const names: string[] = [];
  for await (const answer of reflection.serverReflectionInfo(createAsyncIterable([{ messageRequest: { case: "listServices" as const, value: "" } }]))) {
    if (answer.messageResponse.case === "listServicesResponse") names.push(...answer.messageResponse.value.service.map((s) => s.name));
  }
  t.deepEqual(names.sort(), [K, C, I, V, N, O, P, R, "bazaar.returns.v1.ReturnsService", "bazaar.shipping.v1.ShippingService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);
  const files: Uint8Array[] = [];
  for await (const answer of reflection.serverReflectionInfo(createAsyncIterable([{ messageRequest: { case: "fileContainingSymbol" as const, value: V } }]))) {
    if (answer.messageResponse.case === "fileDescriptorResponse") files.push(...answer.messageResponse.value.fileDescriptorProto);
  }
  const inventoryFile = files.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes)).find((f) => f.service.some((s) => s.name === "InventoryService"));
  const listed = inventoryFile!.service[0]!.method.map((m) => m.name);
  t.true(listed.includes("ReceiveStock") && listed.includes("GetStockLevel"));
  t.false(listed.includes("ReserveStock"), "reflection describes only the public methods");

  const openapi = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, { get?: unknown }>; components: { schemas: Record<string, any> } };
  t.truthy(openapi.paths[`/${C}/ListProducts`]?.get, "read-only methods have a GET");
  t.falsy(openapi.paths[`/${V}/ReserveStock`], "non-public methods are absent");
  t.truthy(openapi.paths["/bazaar.shipping.v1.ShippingService/GetShipment"]?.get, "a shopper's shipment reads are on the surface");
  t.falsy(openapi.paths["/bazaar.shipping.v1.ShippingService/QuoteShipping"], "quotes are the cart's, not on the surface");
  t.falsy(openapi.paths[`/${I}/RotateSigningKey`]);
  t.deepEqual(openapi.components.schemas["bazaar.catalog.v1.Product"].properties.createTime, { type: "string", format: "date-time" });
  const docs = await fetch(`${url}/docs`);
  t.regex(await docs.text(), /Bazaar API/);
  t.regex(docs.headers.get("content-type") ?? "", /text\/html/);

  const jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: unknown[] };
  t.true(jwks.keys.length > 0);
  t.is((await fetch(`${url}/healthz`)).status, 200);
  t.is((await fetch(`${url}/readyz`)).status, 200);
  t.is((await fetch(`${url}/metrics`)).status, 404, "metrics are on their own port, not the public one");

  const preflight = await fetch(`${url}/${C}/ListProducts`, {
    method: "OPTIONS",
    headers: { origin: "https://shop.example.com", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
  });
  t.is(preflight.status, 204);
  t.is(preflight.headers.get("access-control-allow-origin"), "https://shop.example.com");
  t.is(preflight.headers.get("access-control-allow-credentials"), "true");
  const stranger = await fetch(`${url}/${C}/ListProducts`, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
  t.is(stranger.status, 403);
  t.is(stranger.headers.get("access-control-allow-origin"), null);
  t.is(docs.headers.get("x-content-type-options"), "nosniff");
  t.regex(docs.headers.get("x-trace-id") ?? "", /^[\da-f]{32}$/, "every answer names its trace");
  const traced = await fetch(`${url}/healthz`, { headers: { traceparent: `00-${"ab".repeat(16)}-${"cd".repeat(8)}-01` } });
  t.is(traced.headers.get("x-trace-id"), "ab".repeat(16), "the caller's trace is continued");
});

test("gRPC-Web callers reach the same public methods", async (t) => {
  const { url, product } = world;
  const catalog = createClient(CatalogService, createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }));
  t.is((await catalog.getProduct({ id: product.id })).product?.name, product.name);
  const denied = ConnectError.from(await t.throwsAsync(catalog.createCategory({ category: { name: "X", slug: "x" } })));
  t.is(denied.code, Code.Unauthenticated);
});

test("buf curl lists the public methods through reflection and calls one", async (t) => {
  const { url, product } = world;
  const buf = new URL("../../node_modules/.bin/buf", import.meta.url).pathname;
  const run = promisify(execFile);
  const listed = (await run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-methods", url])).stdout.split("\n");
  t.true(listed.includes(`${C}/GetProduct`));
  t.true(listed.includes(`${I}/Login`));
  t.false(listed.includes(`${V}/ReserveStock`), "non-public methods are not described");
  t.false(listed.includes(`${I}/RotateSigningKey`));
  const called = await run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "-d", JSON.stringify({ id: product.id }), `${url}/${C}/GetProduct`]);
  t.is(JSON.parse(called.stdout).product.name, product.name);
});
