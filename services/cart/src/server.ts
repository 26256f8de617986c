// The cart service, declared: built from its config without listening, so tests start it on port 0
// with createService and main.ts with runService.
import { startSweep, type Database, type ServiceDefinition, type Sweep } from "@bazaar/platform";
import { CartService } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { cartMigrations as migrations } from "../migrations/index.ts";
import type { CartConfig } from "./config.ts";
import { cartEntities } from "./entities.ts";
import { cartHandlers } from "./handlers.ts";
import { expireIdle } from "./carts.ts";
import { createPricing } from "./pricing.ts";
import { createShippingQuotes } from "./shipping-quotes.ts";
import { createPromotionEvaluator } from "./promotions.ts";
import { createSkuLookup } from "./sku-lookup.ts";
import { gatherPersonalData } from "./personal-data.ts";

export interface CartOptions {
  config: CartConfig;
  /** Consul name (and database bazaar_<name>). Default "cart"; tests pass unique names. */
  name?: string;
  /** Receives the expiry sweeper once started (tests sweep on demand through it). */
  onSweeper?: (sweeper: Sweep) => void;
}

export function cart(options: CartOptions): ServiceDefinition<Database> {
  const { config } = options;
  const pricing = createPricing(config.CART_TAX_RATES ? { taxRates: config.CART_TAX_RATES } : {});
  return {
    name: options.name ?? "cart",
    identity: "cart",
    version: "1.0.0",
    database: { entities: cartEntities, migrations },
    setup: (runtime) => ({
      routes: (router) =>
        router.service(
          CartService,
          cartHandlers({
            database: runtime.database,
            config,
            pricing,
            lookup: createSkuLookup(runtime),
            quotes: createShippingQuotes(runtime, runtime.logger),
            promotions: createPromotionEvaluator(runtime),
          }),
        ),
      personalData: gatherPersonalData(runtime.database),
      background() {
        // Idle ACTIVE carts (guests sooner than users) become EXPIRED.
        const sweeper = startSweep({
          what: "idle cart sweep",
          batch: (limit) => runtime.database.transaction((em) => expireIdle(em, config.CART_GUEST_TTL_SECONDS, config.CART_USER_TTL_SECONDS, limit)),
          batchSize: 500,
          intervalMs: config.CART_SWEEP_INTERVAL_MS,
          logger: runtime.logger,
        });
        options.onSweeper?.(sweeper);
        return [sweeper];
      },
    }),
  };
}
