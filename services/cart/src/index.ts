// @bazaar/cart: what tools and other services' tests may import — the service definition, its config
// schema, data model and migrations, and the pricing module. Services talk to the cart only through
// its contract.
export { cart, type CartOptions } from "./server.ts";
export { cartConfigSchema, type CartConfig } from "./config.ts";
export { cartEntities, Cart, CartLine } from "./entities.ts";
export { cartMigrations } from "../migrations/index.ts";
export { computeTotals, createPricing, defaultTaxRates, type Pricing, type PricedShippingOption } from "./pricing.ts";
