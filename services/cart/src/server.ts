// The cart service, declared: built from its config without listening, so tests start it on port 0
// with createService and main.ts with runService.
import type { Database, ServiceDefinition } from "@bazaar/platform";
import { CartService } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { migrations } from "../migrations/index.ts";
import type { CartConfig } from "./config.ts";
import { entities } from "./entities.ts";
import { cartHandlers } from "./handlers.ts";
import { createPricing } from "./pricing.ts";
import { createSkuLookup } from "./sku-lookup.ts";
import { startSweeper, type Sweeper } from "./sweeper.ts";

export interface CartOptions {
  config: CartConfig;
  /** Consul name (and database bazaar_<name>). Default "cart"; tests pass unique names. */
  name?: string;
  /** Receives the expiry sweeper once started (tests sweep on demand through it). */
  onSweeper?: (sweeper: Sweeper) => void;
}

export function cart(options: CartOptions): ServiceDefinition<Database> {
  const { config } = options;
  const pricing = createPricing({
    homeCountry: config.CART_HOME_COUNTRY,
    ...(config.CART_SHIPPING_RATES ? { shippingRates: config.CART_SHIPPING_RATES } : {}),
    ...(config.CART_TAX_RATES ? { taxRates: config.CART_TAX_RATES } : {}),
  });
  return {
    name: options.name ?? "cart",
    version: "1.0.0",
    database: { entities, migrations },
    setup: (runtime) => ({
      routes: (router) => router.service(CartService, cartHandlers({ database: runtime.database, config, pricing, lookup: createSkuLookup(runtime) })),
      background() {
        const sweeper = startSweeper({
          database: runtime.database,
          logger: runtime.logger,
          guestTtlSeconds: config.CART_GUEST_TTL_SECONDS,
          userTtlSeconds: config.CART_USER_TTL_SECONDS,
          intervalMs: config.CART_SWEEP_INTERVAL_MS,
        });
        options.onSweeper?.(sweeper);
        return [sweeper];
      },
    }),
  };
}
