// The entities are the typed schema queries are written against: they must describe the tables the
// migrations make (what only the migrations state is listed in schemaDrift's documentation).
import test from "ava";
import { schemaDrift } from "@bazaar/platform/testing";
import { notificationEntities } from "../src/entities.ts";
import { notificationMigrations } from "../migrations/index.ts";

test("the entities describe exactly the tables the migrations make: MikroORM's schema diff after migrating is empty", async (t) => {
  t.deepEqual(await schemaDrift({ entities: notificationEntities, migrations: notificationMigrations }), []);
});
