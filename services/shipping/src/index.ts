// What tools and tests may import from shipping.
export { shipping, type ShippingOptions } from "./server.ts";
export { shippingConfigSchema, type ShippingConfig } from "./config.ts";
export { shippingEntities } from "./entities.ts";
export { shippingMigrations } from "../migrations/index.ts";
export { defaultZones, seedShipping, type DefaultZone } from "./defaults.ts";
export { signCarrierWebhook } from "./carrier-webhook.ts";
export type { CarrierPort, Label, LabelRequest, TrackingKind } from "./carrier.ts";
