// The cart for the edge benchmark in its own process, priced from the benchmark's catalog, inventory
// and promotion. Prints "port <n>" once it listens.
import { createService, loadConfig } from "@bazaar/platform";
import { cart, cartConfigSchema } from "@bazaar/cart";

const config = loadConfig(cartConfigSchema);
const service = await createService(
  cart({ config, name: process.env.BENCH_CART_NAME! }),
  { config, signals: ["SIGTERM", "SIGINT"], upstreams: { catalog: process.env.BENCH_CATALOG_NAME!, inventory: process.env.BENCH_INVENTORY_NAME!, promotion: process.env.BENCH_PROMOTION_NAME! } },
);
process.stdout.write(`port ${service.port}\n`);
