// Shipping's views as contract messages.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { MoneySchema } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import {
  ShippingAreaSchema,
  ShippingDestinationSchema,
  ShippingMethodSchema,
  ShippingQuoteOptionSchema,
  ShippingQuoteSchema,
  ShippingRateSchema,
  ShippingZoneSchema,
  type ShippingMethod,
  type ShippingQuote,
  type ShippingQuoteOption,
  type ShippingRate,
  type ShippingZone,
} from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import type { MethodView } from "./methods.ts";
import type { QuoteOption, QuoteView } from "./quotes.ts";
import type { Rate } from "./rates.ts";
import { etagOf, type ZoneView } from "./zones.ts";

export const money = (amountMinor: bigint | number, currencyCode: string) => create(MoneySchema, { amountMinor: BigInt(amountMinor), currencyCode });

export const zoneMessage = (zone: ZoneView): ShippingZone =>
  create(ShippingZoneSchema, {
    id: zone.id,
    name: zone.name,
    areas: zone.areas.map((area) => create(ShippingAreaSchema, area)),
    etag: etagOf(zone.version),
    createTime: timestampFromDate(zone.createdAt),
    updateTime: timestampFromDate(zone.updatedAt),
  });

function rateMessage(rate: Rate): ShippingRate {
  const rule = rate.rule;
  const tiers = (r: { tiers: { from: number; price: number }[]; max: number }) => ({
    tiers: r.tiers.map((t) => ({ from: BigInt(t.from), priceMinor: BigInt(t.price) })),
    max: BigInt(r.max),
  });
  return create(ShippingRateSchema, {
    currencyCode: rate.currency,
    rule:
      rule.kind === "flat"
        ? { case: "flatMinor", value: BigInt(rule.price) }
        : rule.kind === "weight"
          ? { case: "byWeight", value: tiers(rule) }
          : { case: "bySubtotal", value: tiers(rule) },
    ...(rate.freeOver === undefined ? {} : { freeOverMinor: BigInt(rate.freeOver) }),
  });
}

export const methodMessage = (method: MethodView): ShippingMethod =>
  create(ShippingMethodSchema, {
    id: method.id,
    zoneId: method.zoneId,
    code: method.code,
    name: method.name,
    carrier: method.carrier,
    serviceLevel: method.serviceLevel,
    minDays: method.minDays,
    maxDays: method.maxDays,
    active: method.active,
    rates: method.rates.map(rateMessage),
    etag: etagOf(method.version),
    createTime: timestampFromDate(method.createdAt),
    updateTime: timestampFromDate(method.updatedAt),
  });

export const optionMessage = (option: QuoteOption, currency: string): ShippingQuoteOption =>
  create(ShippingQuoteOptionSchema, { ...option, price: money(option.price, currency) });

export const quoteMessage = (quote: QuoteView): ShippingQuote =>
  create(ShippingQuoteSchema, {
    id: quote.id,
    destination: create(ShippingDestinationSchema, quote.destination),
    currencyCode: quote.currency,
    subtotal: money(quote.subtotal, quote.currency),
    totalWeightGrams: quote.totalWeightGrams,
    zoneId: quote.zoneId ?? "",
    options: quote.options.map((option) => optionMessage(option, quote.currency)),
    createTime: timestampFromDate(quote.createdAt),
    expireTime: timestampFromDate(quote.expiresAt),
  });
