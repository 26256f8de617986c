// An order's lines and shipping priced as the shopper paid them (see amounts.ts), from the order.
import type { Order } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { withTaxShares } from "./amounts.ts";

// Not a SKU (SKUs have no spaces), so it never meets a line's key.
const SHIPPING = "shipping charge";

export interface PaidAmounts {
  /** Per SKU: the line after its discount plus its tax share. */
  lines: Map<string, bigint>;
  /** The shipping after its discount plus its tax share. */
  shipping: bigint;
}

export function paidAmounts(order: Order): PaidAmounts {
  const totals = order.totals;
  const lineParts = order.lines.map((line) => ({ key: line.sku, base: (line.lineTotal?.amountMinor ?? 0n) - (line.discount?.amountMinor ?? 0n) }));
  // What the order charged for shipping is what remains of the total once lines and tax are taken out
  // (a free-shipping promotion waives the quoted price).
  const linesTotal = lineParts.reduce((sum, part) => sum + part.base, 0n);
  const tax = totals?.tax?.amountMinor ?? 0n;
  const shippingCharged = (totals?.total?.amountMinor ?? 0n) - tax - linesTotal;
  const amounts = withTaxShares([...lineParts, { key: SHIPPING, base: shippingCharged > 0n ? shippingCharged : 0n }], tax);
  const shipping = amounts.get(SHIPPING) ?? 0n;
  amounts.delete(SHIPPING);
  return { lines: amounts, shipping };
}
