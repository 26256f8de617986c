// Plain, JSON-safe views of the API's messages: loaders return these, so the server's data crosses
// to the browser as hydration data (int64 as decimal strings, no message classes).
import type { Money } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import type { Product, Category, Review } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Cart } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import type { MoneyView } from "./strings.ts";

export const moneyView = (money: Money | undefined): MoneyView | undefined =>
  money ? { currencyCode: money.currencyCode, amountMinor: money.amountMinor.toString() } : undefined;

export interface VariantView {
  sku: string;
  label: string;
  price: MoneyView | undefined;
  inStock: boolean;
}

export interface ProductView {
  id: string;
  slug: string;
  name: string;
  description: string;
  brand: string;
  categoryId: string;
  imageUrls: string[];
  priceFrom: MoneyView | undefined;
  inStock: boolean;
  rating: { average: number; count: number } | undefined;
  variants: VariantView[];
}

/** The shop's currency: one for now (carts are created in it). */
export const shopCurrency = "USD";

const priceIn = (prices: Money[]) => moneyView(prices.find((p) => p.currencyCode === shopCurrency) ?? prices[0]);

export function productView(product: Product): ProductView {
  return {
    id: product.id,
    slug: product.slug,
    name: product.name,
    description: product.description,
    brand: product.brand,
    categoryId: product.categoryId,
    imageUrls: [...product.imageUrls],
    priceFrom: priceIn(product.priceFrom),
    inStock: product.inStock,
    rating: product.rating && product.rating.count > 0 ? { average: product.rating.average, count: product.rating.count } : undefined,
    variants: product.variants.map((v) => ({
      sku: v.sku,
      label: Object.entries(v.options).map(([k, value]) => `${k}: ${value}`).join(", ") || v.sku,
      price: priceIn(v.prices),
      inStock: v.inStock,
    })),
  };
}

export interface CategoryView {
  id: string;
  slug: string;
  name: string;
}

export const categoryView = (c: Category): CategoryView => ({ id: c.id, slug: c.slug, name: c.name });

export interface CartView {
  id: string;
  currencyCode: string;
  lines: { sku: string; quantity: number; productName: string; productSlug: string; label: string; unitPrice?: MoneyView; lineTotal?: MoneyView }[];
  totals: { subtotal?: MoneyView; discount?: MoneyView; shipping?: MoneyView; tax?: MoneyView; total?: MoneyView; shippingKnown: boolean; shippingDiscount?: MoneyView };
  shippingQuoteId: string;
  /** The promotions that apply now, with what each takes off. */
  promotions: { id: string; code: string; label: string; amount?: MoneyView; shippingDiscount?: MoneyView }[];
  /** The codes entered; one that stopped applying says why. */
  codes: { code: string; applied: boolean; message: string }[];
}

export function cartView(cart: Cart): CartView {
  const t = cart.totals;
  return {
    id: cart.id,
    currencyCode: cart.currencyCode,
    lines: cart.lines.map((l) => ({
      sku: l.sku,
      quantity: l.quantity,
      productName: l.productName,
      productSlug: l.productSlug,
      label: Object.entries(l.options).map(([k, value]) => `${k}: ${value}`).join(", "),
      unitPrice: moneyView(l.unitPrice),
      lineTotal: moneyView(l.lineTotal),
    })),
    totals: {
      subtotal: moneyView(t?.subtotal),
      discount: moneyView(t?.discount),
      shipping: moneyView(t?.shipping),
      tax: moneyView(t?.tax),
      total: moneyView(t?.total),
      shippingKnown: t?.shippingKnown ?? false,
      shippingDiscount: moneyView(t?.shippingDiscount),
    },
    shippingQuoteId: cart.shipping?.quoteId ?? "",
    promotions: (t?.promotions ?? []).map((p) => ({ id: p.promotionId, code: p.code, label: p.label, amount: moneyView(p.amount), shippingDiscount: moneyView(p.shippingDiscount) })),
    codes: cart.promotionCodes.map((c) => ({ code: c.code, applied: c.applied, message: c.message })),
  };
}

export interface ReviewView {
  id: string;
  /** Empty once the author's account is deleted. */
  userId: string;
  rating: number;
  title: string;
  body: string;
  verifiedPurchase: boolean;
  /** ISO 8601. */
  created: string;
}

export const reviewView = (r: Review): ReviewView => ({
  id: r.id,
  userId: r.userId,
  rating: r.rating,
  title: r.title,
  body: r.body,
  verifiedPurchase: r.verifiedPurchase,
  created: r.createTime ? timestampDate(r.createTime).toISOString() : "",
});

export interface ReviewsView {
  items: ReviewView[];
  nextPageToken: string;
}
