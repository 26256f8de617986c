// One guest shopper: a @bazaar/client session (generated descriptors over connect-web's Connect
// JSON transport, Connect GET for side-effect-free reads, the guest cart's token) that runs journeys
// as the storefront's pages call the API, timing each call as a step of its journey.
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { createBazaarClient, type BazaarClient } from "@bazaar/client";
import type { JourneyName } from "./journeys.ts";
import type { Recorder } from "./recorder.ts";
import type { ShopCatalog } from "./shop.ts";
import { RefusedTarget } from "./guarded-fetch.ts";

export interface ShopperOptions {
  baseUrl: URL;
  fetch: typeof globalThis.fetch;
  catalog: ShopCatalog;
  currencyCode: string;
  timeoutMs: number;
  random: () => number;
  recorder: Recorder;
}

export interface Shopper {
  /** Runs one journey; resolves false when a step failed (recorded, never thrown). */
  run(journey: JourneyName): Promise<boolean>;
}

/** Where the guest's order goes (the address the whole-stack tests use). */
const shipTo = { recipientName: "Load Shopper", line1: "1 Main Street", city: "Springfield", region: "IL", postalCode: "62701", countryCode: "US" };

/** The name a failure is counted under: the Connect code, or what kept the call from being answered. */
export function failureName(error: unknown): string {
  if (error instanceof RefusedTarget) return "refused";
  if (error instanceof ConnectError) {
    if (error.cause instanceof RefusedTarget) return "refused";
    return codeName(error.code);
  }
  return "network";
}

/** "NotFound", "Unavailable"… as @connectrpc/connect names the codes. */
const codeName = (code: Code) => Code[code] ?? `code ${code}`;

export function createShopper(o: ShopperOptions): Shopper {
  const client: BazaarClient = createBazaarClient({ baseUrl: o.baseUrl.href.replace(/\/$/, ""), fetch: o.fetch, useHttpGet: true });
  const call = { timeoutMs: o.timeoutMs };
  const pick = <T>(items: T[]): T => items[Math.floor(o.random() * items.length)]!;
  let cartId: string | undefined;
  let cartLines = 0;

  // A step: the call timed on its own, recorded under "<journey> <Method>".
  async function step<T>(journey: JourneyName, method: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await run();
      o.recorder.step(`${journey} ${method}`, performance.now() - started);
      return result;
    } catch (error) {
      o.recorder.step(`${journey} ${method}`, performance.now() - started, failureName(error));
      throw error;
    }
  }

  async function ensureCart(journey: JourneyName): Promise<string> {
    if (cartId) return cartId;
    const created = await step(journey, "CreateCart", () => client.cart.createCart({ currencyCode: o.currencyCode }, call));
    if (!created.cart) throw new Error("CreateCart answered no cart");
    cartId = created.cart.id;
    cartLines = 0;
    return cartId;
  }

  async function addToCart(journey: JourneyName): Promise<void> {
    const id = await ensureCart(journey);
    const product = pick(o.catalog.products);
    await step(journey, "AddCartItem", () => client.cart.addCartItem({ cartId: id, sku: product.sku, quantity: 1 }, call));
    cartLines += 1;
  }

  const journeys: Record<JourneyName, () => Promise<void>> = {
    // The category page: the category and its first page of products (in parallel, as the page loads them).
    async browse() {
      const categoryId = o.catalog.categoryIds.length > 0 ? pick(o.catalog.categoryIds) : "";
      await Promise.all([
        categoryId ? step("browse", "GetCategory", () => client.catalog.getCategory({ id: categoryId }, call)) : undefined,
        step("browse", "ListProducts", () => client.catalog.listProducts({ filter: { categoryId, currencyCode: o.currencyCode }, pageSize: 20 }, call)),
      ]);
    },
    async search() {
      const query = o.catalog.searchTerms.length > 0 ? pick(o.catalog.searchTerms) : pick(o.catalog.products).name;
      await step("search", "SearchProducts", () => client.catalog.searchProducts({ query, pageSize: 24 }, call));
    },
    // The product page: the product by its slug, then its reviews.
    async product() {
      const { slug } = pick(o.catalog.products);
      const found = await step("product", "GetProduct", () => client.catalog.getProduct({ slug }, call));
      if (found.product) await step("product", "ListReviews", () => client.catalog.listReviews({ productId: found.product!.id, pageSize: 5 }, call));
    },
    addToCart: () => addToCart("addToCart"),
    // The cart page: the held cart, or a new one (as the page does for a visitor without one).
    async viewCart() {
      if (cartId) await step("viewCart", "GetCart", () => client.cart.getCart({ cartId: cartId! }, call));
      else await ensureCart("viewCart");
    },
    // Guest checkout as the checkout page does it: an item if the cart is empty, the shipping options
    // for the address, the first one set on the cart (which quotes it), then PlaceOrder with the
    // cart's quote, the test gateway's pm_test_ok and one idempotency key.
    async checkout() {
      if (cartLines === 0) await addToCart("checkout");
      const id = cartId!;
      const { options } = await step("checkout", "ListShippingOptions", () =>
        client.cart.listShippingOptions({ countryCode: shipTo.countryCode, currencyCode: o.currencyCode, region: shipTo.region, postalCode: shipTo.postalCode }, call),
      );
      const option = options[0];
      if (!option) throw new Error("ListShippingOptions answered no option");
      const shipped = await step("checkout", "SetCartShipping", () =>
        client.cart.setCartShipping({ cartId: id, shipping: { countryCode: shipTo.countryCode, region: shipTo.region, postalCode: shipTo.postalCode, shippingOptionId: option.id } }, call),
      );
      await step("checkout", "PlaceOrder", () =>
        client.orders.placeOrder(
          {
            cartId: id,
            email: `load-${randomUUID().slice(0, 8)}@example.com`,
            shippingAddress: shipTo,
            shippingOptionId: option.id,
            shippingQuoteId: shipped.cart?.shipping?.quoteId ?? "",
            paymentMethod: "pm_test_ok",
            idempotencyKey: randomUUID(),
          },
          call,
        ),
      );
      // The order took the cart: the next journey starts a new one.
      client.forgetGuestCart();
      cartId = undefined;
      cartLines = 0;
    },
  };

  return {
    async run(journey) {
      const started = performance.now();
      let failed = false;
      try {
        await journeys[journey]();
      } catch (error) {
        failed = true;
        // A failure that was not a timed call (e.g. an empty answer) still counts against the journey.
        if (!(error instanceof ConnectError) && !(error instanceof RefusedTarget)) o.recorder.step(`${journey} (journey)`, 0, error instanceof Error ? error.message.slice(0, 60) : "error");
        // A cart the shop refused (gone, ordered elsewhere) is not used again.
        if (error instanceof ConnectError && (journey === "checkout" || journey === "addToCart" || journey === "viewCart")) {
          client.forgetGuestCart();
          cartId = undefined;
          cartLines = 0;
        }
      }
      const ms = performance.now() - started;
      o.recorder.step(journey, ms, failed ? "failed" : undefined);
      o.recorder.journey(ms, failed);
      return !failed;
    },
  };
}
