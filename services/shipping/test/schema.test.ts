// The entities are the typed schema queries are written against: they must describe the tables the
// migrations make.
import test from "ava";
import { schemaDrift } from "@bazaar/platform/testing";
import { shippingEntities } from "../src/entities.ts";
import { shippingMigrations } from "../migrations/index.ts";

test("the entities describe exactly the tables the migrations make: MikroORM's schema diff after migrating is empty", async (t) => {
  t.deepEqual(await schemaDrift({ entities: shippingEntities, migrations: shippingMigrations }), []);
});
