// Shipping prices from the shipping service: the cart sends the destination, its buyable lines with
// their unit weights (from the catalog) and the discounted subtotal, and gets options priced in a
// quote the shipping service keeps — the cart never prices shipping itself. Reads degrade (shipping
// unknown) when the shipping service cannot be reached; a checkout says which dependency failed.
// Calls carry the cart's own service token: quotes are made by services, not by shoppers.
import { dependencyUnavailable, failureOf, FailedPreconditionError, InvalidArgumentError, type Logger, type ServiceRuntime } from "@bazaar/platform";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { CartLineStatus } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { ShippingService, type ShippingQuoteOption } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import type { StoredCart } from "./carts.ts";
import { lineState, type Destination } from "./priced-cart.ts";
import { computeTotals, type PricedShippingOption, type TotalsLine } from "./pricing.ts";
import type { SkuFacts } from "./sku-lookup.ts";

/** The option a cart's totals use, with the quote it comes from. */
export interface QuotedShipping {
  option: PricedShippingOption;
  quoteId: string;
  expireTime: Date;
}

export interface ShippingQuotes {
  /** The options for a destination and currency for a light parcel (a price list). */
  priceList(destination: Omit<Destination, "shippingOptionId">, currency: string): Promise<PricedShippingOption[]>;
  /**
   * The chosen option quoted now for the cart as it is; undefined when it is not offered for this
   * parcel (or, for reads, when shipping cannot be reached: then `strict` decides — a checkout fails).
   */
  quoteFor(stored: StoredCart, facts: Map<string, SkuFacts>, destination: Destination, strict: boolean, discount: bigint): Promise<QuotedShipping | undefined>;
  /** The option at the price of quote `quoteId`, which must hold for the cart as it is (FAILED_PRECONDITION otherwise). */
  honour(stored: StoredCart, facts: Map<string, SkuFacts>, destination: Destination, quoteId: string, discount: bigint): Promise<QuotedShipping>;
}

const optionOf = (o: ShippingQuoteOption): PricedShippingOption => ({
  id: o.optionId,
  displayName: o.displayName,
  price: o.price?.amountMinor ?? 0n,
  minDays: o.minDays,
  maxDays: o.maxDays,
});

/**
 * What the shipping service is asked about a cart: its buyable lines with unit weights, and the
 * subtotal less what promotions take off the lines (`discount`).
 */
function parcelOf(stored: StoredCart, facts: Map<string, SkuFacts>, discount: bigint) {
  const currency = stored.cart.currency;
  const totalsLines: TotalsLine[] = [];
  const lines: { sku: string; quantity: number; weightGrams: bigint }[] = [];
  for (const line of stored.lines) {
    const skuFacts = facts.get(line.sku);
    const { status, unitPrice } = lineState(skuFacts, line.quantity, currency);
    const buyable = status === CartLineStatus.OK;
    totalsLines.push({ sku: line.sku, quantity: line.quantity, lineTotal: unitPrice * BigInt(line.quantity), buyable });
    if (buyable) lines.push({ sku: line.sku, quantity: line.quantity, weightGrams: skuFacts?.variant?.weightGrams ?? 0n });
  }
  const totals = computeTotals(totalsLines, undefined, currency, { lines: discount, freeShipping: false });
  return { lines, subtotal: { amountMinor: totals.subtotal - totals.discount, currencyCode: currency } };
}

const destinationOf = (d: Omit<Destination, "shippingOptionId">) => ({ countryCode: d.countryCode, region: d.region, postalCode: d.postalCode });

export function createShippingQuotes(runtime: Pick<ServiceRuntime, "serviceClientFor">, logger: Logger): ShippingQuotes {
  const shipping = () => runtime.serviceClientFor(ShippingService);
  const unreachable = (error: unknown) => {
    const { code } = failureOf(error);
    return code === Code.Unavailable || code === Code.ResourceExhausted || code === Code.DeadlineExceeded;
  };
  return {
    async priceList(destination, currency) {
      try {
        const { quote } = await shipping().quoteShipping({ destination: destinationOf(destination), lines: [], subtotal: { amountMinor: 0n, currencyCode: currency } });
        return quote!.options.map(optionOf);
      } catch (error) {
        if (unreachable(error)) throw dependencyUnavailable("shipping", error, "no shipping options can be listed");
        throw error;
      }
    },

    async quoteFor(stored, facts, destination, strict, discount) {
      try {
        const { quote } = await shipping().quoteShipping({ destination: destinationOf(destination), ...parcelOf(stored, facts, discount) });
        const option = quote!.options.find((o) => o.optionId === destination.shippingOptionId);
        return option ? { option: optionOf(option), quoteId: quote!.id, expireTime: timestampDate(quote!.expireTime!) } : undefined;
      } catch (error) {
        if (!unreachable(error)) throw error;
        if (strict) throw dependencyUnavailable("shipping", error, "the cart cannot be priced");
        logger.warn({ err: error }, "shipping cannot be reached: the cart is shown without shipping");
        return undefined;
      }
    },

    async honour(stored, facts, destination, quoteId, discount) {
      try {
        const { option, expireTime } = await shipping().checkShippingQuote({
          quoteId,
          optionId: destination.shippingOptionId,
          destination: destinationOf(destination),
          ...parcelOf(stored, facts, discount),
        });
        return { option: optionOf(option!), quoteId, expireTime: timestampDate(expireTime!) };
      } catch (error) {
        const { code, reason, error: e } = failureOf(error);
        if (code === Code.FailedPrecondition) throw new FailedPreconditionError(e.rawMessage, { reason: reason ?? "QUOTE_INVALID", metadata: { quote_id: quoteId }, cause: e });
        if (code === Code.InvalidArgument && /quote_id/.test(e.rawMessage)) {
          throw new InvalidArgumentError({ field: "shipping.quote_id", description: "must be a shipping quote's id (a UUID)" }, { cause: e });
        }
        if (unreachable(error)) throw dependencyUnavailable("shipping", error, "the cart cannot be priced");
        throw error;
      }
    },
  };
}
