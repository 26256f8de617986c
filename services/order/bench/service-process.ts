// One service of the checkout benchmark as its own process (so the services and the load generator
// spread over the cores): BENCH_SERVICE names which, BENCH_NAMES (JSON) every service's Consul name,
// BENCH_JWK the public key tokens are verified with and BENCH_TOKEN its service token. Prints
// "port <n>" once serving; SIGTERM stops it in order.
import type { JWK } from "jose";
import { createService, createTokenVerifier, loadConfig, platformConfigSchema, type ServiceDefinition } from "@bazaar/platform";
import { catalog } from "@bazaar/catalog";
import { inventory } from "@bazaar/inventory";
import { cart, cartConfigSchema } from "@bazaar/cart";
import { payment, paymentConfigSchema } from "@bazaar/payment";
import { promotion, promotionConfigSchema } from "@bazaar/promotion";
import { shipping, shippingConfigSchema } from "@bazaar/shipping";
import { order, orderConfigSchema } from "../src/index.ts";

const names = JSON.parse(process.env.BENCH_NAMES ?? "{}") as Record<"catalog" | "inventory" | "shipping" | "promotion" | "cart" | "payment" | "order", string>;
const jwk = JSON.parse(process.env.BENCH_JWK ?? "null") as JWK;
const token = process.env.BENCH_TOKEN ?? "";
const which = process.env.BENCH_SERVICE as keyof typeof names;

function definition(): { definition: ServiceDefinition; config: ReturnType<typeof loadConfig<typeof platformConfigSchema>> } {
  switch (which) {
    case "catalog":
      return { definition: catalog({ name: names.catalog, followStock: false }), config: loadConfig(platformConfigSchema) };
    case "inventory":
      return { definition: inventory({ name: names.inventory }), config: loadConfig(platformConfigSchema) };
    case "cart": {
      const config = loadConfig(cartConfigSchema);
      return { definition: cart({ config, name: names.cart }), config };
    }
    case "shipping": {
      // Development mode: it creates the default zones at start (SHIPPING_SEED_DEFAULTS). Its new durable
      // on the order stream starts at the end, not replaying every earlier run's orders into shipments.
      const config = loadConfig(shippingConfigSchema, { ...process.env, EVENTS_NEW_CONSUMER_START: "new" });
      return { definition: shipping({ config, name: names.shipping }), config };
    }
    case "payment": {
      const config = loadConfig(paymentConfigSchema);
      return { definition: payment({ config, name: names.payment }), config };
    }
    case "promotion": {
      const config = loadConfig(promotionConfigSchema);
      return { definition: promotion({ config, name: names.promotion, followOrders: false }), config };
    }
    case "order": {
      const config = loadConfig(orderConfigSchema);
      return { definition: order({ config, name: names.order }), config };
    }
    default:
      throw new Error(`BENCH_SERVICE must be catalog, inventory, shipping, promotion, cart, payment or order, got ${which}`);
  }
}

// BENCH_SQL_COUNT_DIR: count the statements this service sends (by text, literals folded) and write
// them to <dir>/<service>.json at exit: pg_stat_statements is not available here.
if (process.env.BENCH_SQL_COUNT_DIR) {
  const { countStatements } = await import("./sql-count.ts");
  countStatements(`${process.env.BENCH_SQL_COUNT_DIR}/${which}.json`);
}

const { definition: service, config } = definition();
const running = await createService(service, {
  config,
  // Every service of the bench runs under its bench name.
  upstreams: { catalog: names.catalog, inventory: names.inventory, shipping: names.shipping, cart: names.cart, payment: names.payment, promotion: names.promotion },
  verifier: createTokenVerifier({ jwks: { keys: [jwk] }, issuer: "bazaar-identity", audience: "bazaar" }),
  serviceCredentials: { token: async () => token },
  signals: ["SIGTERM", "SIGINT"],
});
console.log(`port ${running.port}`);
