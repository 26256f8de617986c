// A catalog for the edge benchmark in its own process: unique Consul name, 1,000 seeded products.
// Prints "port <n>" once it listens and is seeded.
import { createService, loadConfig, platformConfigSchema } from "@bazaar/platform";
import { catalog, seedCatalog } from "@bazaar/catalog";

const name = process.env.BENCH_CATALOG_NAME!;
const service = await createService(catalog({ name, followStock: false }), { config: loadConfig(platformConfigSchema), signals: ["SIGTERM", "SIGINT"] });
await seedCatalog(service.runtime.database!, { products: Number(process.env.BENCH_PRODUCTS ?? 1000) });
process.stdout.write(`port ${service.port}\n`);
