// `npm run seed`: a realistic, deterministic demo catalog (≥ 1,000 products in a tree of categories,
// with variants, prices, attributes, brands and reviews) in bazaar_catalog, stock for every SKU in
// bazaar_inventory, the default shipping zones and methods (domestic, EU, rest of world; standard and
// express) in bazaar_shipping, and demo promotions in bazaar_promotion — with a progress bar.
// Idempotent: a re-run adds only what is missing and leaves stock at the seeded figures.
//
// Environment: DATABASE_URL (default the local development server), SEED_PRODUCTS (default 1200),
// SEED_CATALOG_DB / SEED_INVENTORY_DB / SEED_SHIPPING_DB / SEED_PROMOTION_DB (default bazaar_catalog /
// bazaar_inventory / bazaar_shipping / bazaar_promotion; the benchmark seeds databases of its own
// this way).
import { SingleBar, Presets } from "cli-progress";
import { createDatabase, createLogger } from "@bazaar/platform";
import { catalogEntities, catalogMigrations, seedCatalog } from "@bazaar/catalog";
import { inventoryEntities, inventoryMigrations, seedStock } from "@bazaar/inventory";
import { promotionEntities, promotionMigrations, seedPromotions } from "@bazaar/promotion";
import { seedShipping, shippingEntities, shippingMigrations } from "@bazaar/shipping";

const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const products = Number(process.env.SEED_PRODUCTS ?? 1200);
if (!Number.isInteger(products) || products < 1 || products > 100_000) {
  console.error(`SEED_PRODUCTS must be a whole number from 1 to 100000, got ${process.env.SEED_PRODUCTS}`);
  process.exit(2);
}
const logger = createLogger({ service: "seed", level: "warn" });
const catalogDb = await createDatabase({ url, dbName: process.env.SEED_CATALOG_DB ?? "bazaar_catalog", entities: catalogEntities, migrations: catalogMigrations, logger });
const inventoryDb = await createDatabase({ url, dbName: process.env.SEED_INVENTORY_DB ?? "bazaar_inventory", entities: inventoryEntities, migrations: inventoryMigrations, logger });
const shippingDb = await createDatabase({ url, dbName: process.env.SEED_SHIPPING_DB ?? "bazaar_shipping", entities: shippingEntities, migrations: shippingMigrations, logger });
const promotionDb = await createDatabase({ url, dbName: process.env.SEED_PROMOTION_DB ?? "bazaar_promotion", entities: promotionEntities, migrations: promotionMigrations, logger });

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
  const zones = await seedShipping(shippingDb);
  const inStock = catalog.stock.filter((s) => s.onHand > 0).length;
  console.log(
    `seeded ${catalog.products} products (${catalog.created} new) in ${catalog.categories} categories, ${catalog.stock.length} SKUs (${inStock} in stock) into ${catalogDb.dbName} and ${inventoryDb.dbName}; ${zones} new shipping zones into ${shippingDb.dbName}`,
  );
  // The buy-2-get-1 is on the demo catalog's T-shirts.
  const [tShirts] = await catalogDb.em().execute<{ id: string }[]>("select id from category where slug = 'clothing-t-shirts'");
  const promotions = await seedPromotions(promotionDb, { buyTwoGetOneCategoryId: tShirts?.id });
  console.log(`seeded demo promotions (${promotions.created.length} new: ${promotions.created.join(", ") || "none"}) into ${promotionDb.dbName}`);
} finally {
  bar.stop();
  await catalogDb.close();
  await inventoryDb.close();
  await shippingDb.close();
  await promotionDb.close();
}
