// `npm run seed` as a process: the catalog and inventory databases get the same SKUs, every SKU gets
// stock, the demo promotions are there (the buy-2-get-1 on the catalog's T-shirts), and a second run
// adds nothing.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test from "ava";
import pg from "pg";

const run = promisify(execFile);
const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const root = path.resolve(path.dirname(main), "../../..");
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function query<T>(database: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url.replace(/\/[^/]*$/, `/${database}`) });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

test("the seed fills the catalog and stocks every one of its SKUs, and a second run adds nothing", async (t) => {
  const suffix = randomBytes(4).toString("hex");
  const catalogDb = `bazaar_seedtest_catalog_${suffix}`;
  const inventoryDb = `bazaar_seedtest_inventory_${suffix}`;
  const promotionDb = `bazaar_seedtest_promotion_${suffix}`;
  t.teardown(async () => {
    await query("postgres", `drop database if exists ${catalogDb} with (force)`);
    await query("postgres", `drop database if exists ${inventoryDb} with (force)`);
    await query("postgres", `drop database if exists ${promotionDb} with (force)`);
  });
  const env = { ...process.env, SEED_PRODUCTS: "80", SEED_CATALOG_DB: catalogDb, SEED_INVENTORY_DB: inventoryDb, SEED_PROMOTION_DB: promotionDb, DATABASE_URL: url };
  const seed = () => run(process.execPath, ["--import", "tsx", main], { env, cwd: root, timeout: 60_000 });

  const first = await seed();
  t.regex(first.stdout, /seeded 80 products \(80 new\) in \d+ categories, \d+ SKUs/);
  const second = await seed();
  t.regex(second.stdout, /seeded 80 products \(0 new\)/);
  t.regex(first.stdout, /seeded demo promotions \(3 new/);
  t.regex(second.stdout, /seeded demo promotions \(0 new/);
  const promotions = await query<{ name: string; category: string | null }>(promotionDb, "select name, action->'buyXGetY'->'buy'->'categoryIds'->>0 as category from promotion order by name");
  t.is(promotions.length, 3);
  const [tShirts] = await query<{ id: string }>(catalogDb, "select id from category where slug = 'clothing-t-shirts'");
  t.is(promotions.find((p) => p.name.includes("buy 2"))?.category, tShirts!.id);

  const catalogSkus = (await query<{ sku: string; in_stock: boolean | null }>(catalogDb, "select v.sku, s.in_stock from variant v left join sku_stock s on s.sku = v.sku order by v.sku"));
  const stock = await query<{ sku: string; on_hand: string }>(inventoryDb, "select sku, sum(on_hand)::text as on_hand from stock_level group by sku order by sku");
  t.deepEqual(stock.map((s) => s.sku), catalogSkus.map((s) => s.sku), "inventory has exactly the catalog's SKUs");
  const onHand = new Map(stock.map((s) => [s.sku, Number(s.on_hand)]));
  t.true(catalogSkus.every((s) => s.in_stock === (onHand.get(s.sku)! > 0)), "in stock in the catalog exactly when inventory has units");
  const [products] = await query<{ count: string }>(catalogDb, "select count(*) from product");
  t.is(products?.count, "80");
});
