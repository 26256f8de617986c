// The catalog and inventory for the edge benchmark in one process of their own: unique Consul names,
// 1,000 seeded products, every SKU stocked deep enough for any add-to-cart run. Prints "port <n>"
// (the catalog's) once both listen and are seeded, then "skus <comma-separated>" (a sample to add).
import { createService, loadConfig, platformConfigSchema } from "@bazaar/platform";
import { catalog, seedCatalog } from "@bazaar/catalog";
import { inventory, seedStock } from "@bazaar/inventory";

const config = loadConfig(platformConfigSchema);
const signals: NodeJS.Signals[] = ["SIGTERM", "SIGINT"];
const [service, inventoryService] = await Promise.all([
  createService(catalog({ name: process.env.BENCH_CATALOG_NAME!, followStock: false }), { config, signals }),
  createService(inventory({ name: process.env.BENCH_INVENTORY_NAME! }), { config, signals }),
]);
const seeded = await seedCatalog(service.runtime.database, { products: Number(process.env.BENCH_PRODUCTS ?? 1000) });
const sample = seeded.stock.slice(0, 100).map((s) => ({ sku: s.sku, onHand: 1_000_000 }));
await seedStock(inventoryService.runtime.database, sample);
process.stdout.write(`port ${service.port}\n`);
process.stdout.write(`skus ${sample.map((s) => s.sku).join(",")}\n`);
