// `npm run seed`: a realistic, deterministic demo catalog (≥ 1,000 products in a tree of categories,
// with variants, prices, attributes, brands and reviews) in bazaar_catalog, and stock for every SKU
// in bazaar_inventory — with a progress bar. Idempotent: a re-run adds only what is missing and
// leaves stock at the seeded figures.
//
// Environment: DATABASE_URL (default the local development server), SEED_PRODUCTS (default 1200),
// SEED_CATALOG_DB / SEED_INVENTORY_DB (default bazaar_catalog / bazaar_inventory; the benchmark seeds
// databases of its own this way).
import { SingleBar, Presets } from "cli-progress";
import { createDatabase, createLogger } from "@bazaar/platform";
import { entities as catalogEntities, migrations as catalogMigrations, seedCatalog } from "@bazaar/catalog";
import { entities as inventoryEntities, migrations as inventoryMigrations, seedStock } from "@bazaar/inventory";

const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const products = Number(process.env.SEED_PRODUCTS ?? 1200);
if (!Number.isInteger(products) || products < 1 || products > 100_000) {
  console.error(`SEED_PRODUCTS must be a whole number from 1 to 100000, got ${process.env.SEED_PRODUCTS}`);
  process.exit(2);
}
const logger = createLogger({ service: "seed", level: "warn" });
const catalogDb = await createDatabase({ url, dbName: process.env.SEED_CATALOG_DB ?? "bazaar_catalog", entities: catalogEntities, migrations: catalogMigrations, logger });
const inventoryDb = await createDatabase({ url, dbName: process.env.SEED_INVENTORY_DB ?? "bazaar_inventory", entities: inventoryEntities, migrations: inventoryMigrations, logger });

const bar = new SingleBar({ format: "{task} [{bar}] {value}/{total} {unit}", hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
try {
  bar.start(products, 0, { task: "catalog  ", unit: "products" });
  const catalog = await seedCatalog(catalogDb, { products, onProgress: (done) => bar.update(done) });
  bar.update(products);
  bar.stop();

  bar.start(catalog.stock.length, 0, { task: "inventory", unit: "SKUs" });
  const chunk = 200;
  for (let start = 0; start < catalog.stock.length; start += chunk) {
    await seedStock(inventoryDb, catalog.stock.slice(start, start + chunk));
    bar.update(Math.min(start + chunk, catalog.stock.length));
  }
  bar.stop();
  const inStock = catalog.stock.filter((s) => s.onHand > 0).length;
  console.log(
    `seeded ${catalog.products} products (${catalog.created} new) in ${catalog.categories} categories, ${catalog.stock.length} SKUs (${inStock} in stock) into ${catalogDb.dbName} and ${inventoryDb.dbName}`,
  );
} finally {
  bar.stop();
  await catalogDb.close();
  await inventoryDb.close();
}
