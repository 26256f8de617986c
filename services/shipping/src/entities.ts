// Shipping's tables as MikroORM entities: the typed schema reads are written against (typedQueries).
import { defineEntity, p } from "@mikro-orm/core";

/** A named set of destinations. `version` backs the etag. */
export const ShippingZone = defineEntity({
  name: "ShippingZone",
  tableName: "shipping_zone",
  indexes: [{ name: "shipping_zone_by_name", properties: ["name", "id"] }],
  properties: {
    id: p.uuid().primary(),
    name: p.text(),
    version: p.integer().defaultRaw("1"),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
    updatedAt: p.datetime().fieldName("updated_at").defaultRaw("clock_timestamp()"),
  },
});

/**
 * One destination of a zone. The primary key (country, region, prefix) is the no-ambiguity rule: an
 * area belongs to one zone at most, so the most specific match is always unique.
 */
export const ShippingZoneArea = defineEntity({
  name: "ShippingZoneArea",
  tableName: "shipping_zone_area",
  indexes: [{ name: "shipping_zone_area_by_zone", properties: ["zoneId"] }],
  properties: {
    countryCode: p.text().primary().fieldName("country_code"),
    region: p.text().primary(),
    postalPrefix: p.text().primary().fieldName("postal_prefix"),
    zoneId: p.uuid().fieldName("zone_id"),
  },
});

/** A way to ship to a zone; its rates per currency as JSON (see rates.ts). */
export const ShippingMethod = defineEntity({
  name: "ShippingMethod",
  tableName: "shipping_method",
  uniques: [{ name: "shipping_method_zone_code_key", properties: ["zoneId", "code"] }],
  properties: {
    id: p.uuid().primary(),
    zoneId: p.uuid().fieldName("zone_id"),
    code: p.text(),
    name: p.text(),
    carrier: p.text(),
    serviceLevel: p.text().fieldName("service_level"),
    minDays: p.integer().fieldName("min_days"),
    maxDays: p.integer().fieldName("max_days"),
    active: p.boolean(),
    rates: p.json(),
    version: p.integer().defaultRaw("1"),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
    updatedAt: p.datetime().fieldName("updated_at").defaultRaw("clock_timestamp()"),
  },
});

/** A quote as made: what it was for (to check a checkout against) and the options priced. */
export const ShippingQuote = defineEntity({
  name: "ShippingQuote",
  tableName: "shipping_quote",
  indexes: [{ name: "shipping_quote_by_expiry", properties: ["expiresAt"] }],
  properties: {
    id: p.uuid().primary(),
    countryCode: p.text().fieldName("country_code"),
    region: p.text(),
    postalCode: p.text().fieldName("postal_code"),
    currency: p.text(),
    subtotal: p.bigint("bigint"),
    totalWeightGrams: p.bigint("bigint").fieldName("total_weight_grams"),
    /** Digest of the lines (sku, quantity, unit weight), sorted. */
    linesDigest: p.text().fieldName("lines_digest"),
    zoneId: p.uuid().fieldName("zone_id").nullable(),
    options: p.json(),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
    expiresAt: p.datetime().fieldName("expires_at"),
  },
});

/** A parcel of a paid order. */
export const Shipment = defineEntity({
  name: "Shipment",
  tableName: "shipment",
  indexes: [
    { name: "shipment_one_per_order", expression: "create unique index shipment_one_per_order on shipment (order_id) where origin = 'order'" },
    { name: "shipment_by_order", properties: ["orderId", "id"] },
    { name: "shipment_by_status", properties: ["status", "createdAt", "id"] },
  ],
  properties: {
    id: p.uuid().primary(),
    orderId: p.uuid().fieldName("order_id"),
    origin: p.text(),
    userId: p.text().fieldName("user_id").defaultRaw("''::text"),
    cartTokenHash: p.text().fieldName("cart_token_hash").defaultRaw("''::text"),
    status: p.text(),
    optionId: p.text().fieldName("option_id"),
    carrier: p.text(),
    serviceLevel: p.text().fieldName("service_level"),
    address: p.json(),
    lines: p.json(),
    trackingNumber: p.text().fieldName("tracking_number").nullable().unique("shipment_tracking_number_key"),
    trackingUrl: p.text().fieldName("tracking_url").defaultRaw("''::text"),
    labelUrl: p.text().fieldName("label_url").defaultRaw("''::text"),
    /** Set for a deleted account's parcel still on its way: a trigger anonymises the address once delivered. */
    eraseAddressWhenDelivered: p.boolean().fieldName("erase_address_when_delivered").defaultRaw("false"),
    version: p.integer().defaultRaw("1"),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
    updatedAt: p.datetime().fieldName("updated_at").defaultRaw("clock_timestamp()"),
  },
});

/** One step of a shipment's timeline; `updateKey` is the carrier's update id (applied once). */
export const ShipmentEvent = defineEntity({
  name: "ShipmentEvent",
  tableName: "shipment_event",
  indexes: [{ name: "shipment_event_by_shipment", properties: ["shipmentId", "occurredAt", "id"] }],
  properties: {
    id: p.uuid().primary(),
    shipmentId: p.uuid().fieldName("shipment_id"),
    kind: p.text(),
    description: p.text().defaultRaw("''::text"),
    location: p.text().defaultRaw("''::text"),
    updateKey: p.text().fieldName("update_key").nullable().unique("shipment_event_update_key_key"),
    occurredAt: p.datetime().fieldName("occurred_at").defaultRaw("clock_timestamp()"),
  },
});

/** A signed webhook delivery seen, by its signature: a replay is refused. */
export const CarrierWebhookDelivery = defineEntity({
  name: "CarrierWebhookDelivery",
  tableName: "carrier_webhook_delivery",
  properties: {
    signature: p.text().primary(),
    receivedAt: p.datetime().fieldName("received_at").defaultRaw("clock_timestamp()"),
  },
});

export const shippingEntities = [ShippingZone, ShippingZoneArea, ShippingMethod, ShippingQuote, Shipment, ShipmentEvent, CarrierWebhookDelivery];
