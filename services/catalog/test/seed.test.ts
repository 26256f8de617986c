// seedCatalog: the demo catalog is deterministic and a re-run adds nothing.
import test from "ava";
import pg from "pg";
import { createDatabase, createLogger } from "@bazaar/platform";
import { catalogEntities, catalogMigrations, seedCatalog } from "../src/index.ts";
import { dropDatabase, env, uniqueName } from "./helpers.ts";

test("seeding twice yields the same catalog once, with in-stock flags matching the seeded stock", async (t) => {
  const name = uniqueName("catalog-seed");
  const dbName = `bazaar_${name.replaceAll("-", "_")}`;
  t.teardown(() => dropDatabase(name));
  const database = await createDatabase({ url: env.DATABASE_URL!, dbName, entities: catalogEntities, migrations: catalogMigrations, logger: createLogger({ service: "seed-test", level: "silent" }) });
  t.teardown(() => database.close());

  const progress: number[] = [];
  const first = await seedCatalog(database, { products: 120, onProgress: (done) => progress.push(done) });
  const second = await seedCatalog(database, { products: 120 });
  t.deepEqual([first.created, second.created], [120, 0]);
  t.deepEqual(progress, [50, 100, 120]);
  t.true(first.categories >= 20);
  t.deepEqual(second.stock, first.stock, "the same SKUs and figures every time");

  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  t.teardown(() => client.end());
  const counts = (await client.query("select (select count(*) from product)::int as products, (select count(*) from category where parent_id is not null)::int as subcategories, (select count(*) from review)::int as reviews, (select sum(rating_count) from product)::int as counted")).rows[0];
  t.is(counts.products, 120);
  t.true(counts.subcategories >= 20);
  t.is(counts.reviews, counts.counted, "each product's review count matches its reviews");
  const inStock = new Set((await client.query("select sku from sku_stock where in_stock")).rows.map((r) => r.sku));
  t.deepEqual([...inStock].sort(), first.stock.filter((s) => s.onHand > 0).map((s) => s.sku).sort());
});
