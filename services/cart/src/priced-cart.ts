// A stored cart priced now: each line's name, price and stock from the SKU facts, its status flagged
// (never dropped), and totals from the pricing module — shaped as the contract's Cart.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  CartLineSchema,
  CartLineStatus,
  CartSchema,
  CartShippingSchema,
  CartState,
  CartTotalsSchema,
  type Cart,
  type CartLine,
} from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { ProductStatus } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { MoneySchema } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import type { CartStateName, StoredCart } from "./carts.ts";
import type { PricedShippingOption, Pricing, TotalsLine } from "./pricing.ts";
import type { QuotedShipping } from "./shipping-quotes.ts";
import { cartPromotionMessages, type CartPromotions, type PromotableLine } from "./promotions.ts";
import type { SkuFacts } from "./sku-lookup.ts";

const states: Record<CartStateName, CartState> = {
  active: CartState.ACTIVE,
  merged: CartState.MERGED,
  checked_out: CartState.CHECKED_OUT,
  expired: CartState.EXPIRED,
};

/** Where a cart ships, as stored or as a checkout asks. */
export interface Destination {
  countryCode: string;
  region: string;
  postalCode: string;
  shippingOptionId: string;
}

export interface PricedCart {
  cart: Cart;
  /** The chosen shipping option as priced; undefined while shipping is unknown or no longer offered. */
  option: PricedShippingOption | undefined;
}

/** The line's unit price in `currency` and what, if anything, stops it being bought as it is. */
export function lineState(facts: SkuFacts | undefined, quantity: number, currency: string): { status: CartLineStatus; unitPrice: bigint } {
  const variant = facts?.variant;
  if (!variant || variant.productStatus !== ProductStatus.ACTIVE) return { status: CartLineStatus.UNAVAILABLE, unitPrice: 0n };
  const price = variant.prices.find((p) => p.currencyCode === currency);
  if (!price) return { status: CartLineStatus.NO_PRICE, unitPrice: 0n };
  const available = facts!.available;
  if (available <= 0n) return { status: CartLineStatus.OUT_OF_STOCK, unitPrice: price.amountMinor };
  if (available < BigInt(quantity)) return { status: CartLineStatus.INSUFFICIENT_STOCK, unitPrice: price.amountMinor };
  return { status: CartLineStatus.OK, unitPrice: price.amountMinor };
}

export function storedDestination(stored: Pick<StoredCart, "cart">): Destination | undefined {
  const c = stored.cart;
  return c.country_code && c.shipping_option_id
    ? { countryCode: c.country_code, region: c.region, postalCode: c.postal_code, shippingOptionId: c.shipping_option_id }
    : undefined;
}

/** The buyable lines as the promotion evaluation needs them (unit prices in the cart's currency). */
export function promotableLines(stored: StoredCart, facts: Map<string, SkuFacts>): PromotableLine[] {
  return stored.lines.flatMap((line) => {
    const skuFacts = facts.get(line.sku);
    const { status, unitPrice } = lineState(skuFacts, line.quantity, stored.cart.currency);
    if (status !== CartLineStatus.OK) return [];
    return [{ sku: line.sku, productId: skuFacts!.variant!.productId, categoryIds: skuFacts!.variant!.categoryIds, quantity: line.quantity, unitPrice }];
  });
}

/**
 * Prices `stored` with `facts` (which must cover its SKUs), the shipping `quoted` for `destination`
 * (shipping unknown without it) and its `promotions` as evaluated. `destination` overrides the stored
 * one (a checkout prices for the address it is given); `ttlSeconds` gives expire_time.
 */
export function priceCart(
  stored: StoredCart,
  facts: Map<string, SkuFacts>,
  pricing: Pricing,
  ttlSeconds: number,
  destination = storedDestination(stored),
  quoted?: QuotedShipping,
  promotions?: CartPromotions,
): PricedCart {
  const { cart: row } = stored;
  const currency = row.currency;
  const money = (amountMinor: bigint) => create(MoneySchema, { currencyCode: currency, amountMinor });
  const lines: CartLine[] = [];
  const totalsLines: TotalsLine[] = [];
  for (const line of stored.lines) {
    const skuFacts = facts.get(line.sku);
    const variant = skuFacts?.variant;
    const { status, unitPrice } = lineState(skuFacts, line.quantity, currency);
    const lineTotal = unitPrice * BigInt(line.quantity);
    totalsLines.push({ sku: line.sku, quantity: line.quantity, lineTotal, buyable: status === CartLineStatus.OK });
    lines.push(
      create(CartLineSchema, {
        sku: line.sku,
        quantity: line.quantity,
        productId: variant?.productId ?? "",
        productName: variant?.productName ?? "",
        productSlug: variant?.productSlug ?? "",
        options: variant?.options ?? {},
        imageUrl: variant?.imageUrl ?? "",
        unitPrice: money(unitPrice),
        lineTotal: money(lineTotal),
        status,
        available: skuFacts?.available ?? 0n,
        addTime: timestampFromDate(line.added_at),
      }),
    );
  }
  const { totals, option } = pricing.totalsFor(totalsLines, currency, destination && { ...destination, option: quoted?.option }, promotions?.discount);
  const shown = promotions ? cartPromotionMessages(promotions, currency, totals.shipping + totals.shippingDiscount) : { applied: [], codes: [] };
  const cart = create(CartSchema, {
    ...storedFields(stored, ttlSeconds, destination, quoted),
    lines,
    totals: create(CartTotalsSchema, {
      subtotal: money(totals.subtotal),
      discount: money(totals.discount),
      shipping: money(totals.shipping),
      tax: money(totals.tax),
      total: money(totals.total),
      taxRateBps: totals.taxRateBps,
      shippingKnown: totals.shippingKnown,
      promotions: shown.applied,
      shippingDiscount: money(totals.shippingDiscount),
    }),
    promotionCodes: shown.codes,
    checkoutReady: lines.length > 0 && lines.every((l) => l.status === CartLineStatus.OK),
  });
  return { cart, option };
}

/**
 * The cart as stored, not priced (no catalog or inventory call): its lines carry sku, quantity and
 * add_time only, and it has no totals. CompleteCart answers with it: a checked-out cart's prices are
 * the order's.
 */
export function unpricedCart(stored: Pick<StoredCart, "cart" | "lines">, ttlSeconds: number): Cart {
  return create(CartSchema, {
    ...storedFields(stored, ttlSeconds, storedDestination(stored)),
    lines: stored.lines.map((line) => create(CartLineSchema, { sku: line.sku, quantity: line.quantity, addTime: timestampFromDate(line.added_at) })),
  });
}

/** The fields of a Cart that come from the stored cart alone. */
function storedFields(stored: Pick<StoredCart, "cart" | "lines">, ttlSeconds: number, destination: Destination | undefined, quoted?: QuotedShipping) {
  const { cart: row } = stored;
  return {
    id: row.id,
    userId: row.user_id ?? "",
    state: states[row.state],
    currencyCode: row.currency,
    ...(destination
      ? { shipping: create(CartShippingSchema, { ...destination, ...(quoted ? { quoteId: quoted.quoteId, quoteExpireTime: timestampFromDate(quoted.expireTime) } : {}) }) }
      : {}),
    itemCount: stored.lines.reduce((sum, l) => sum + l.quantity, 0),
    orderId: row.order_id ?? "",
    createTime: timestampFromDate(row.created_at),
    updateTime: timestampFromDate(row.updated_at),
    expireTime: timestampFromDate(new Date(row.updated_at.getTime() + ttlSeconds * 1000)),
  };
}
