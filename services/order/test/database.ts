// The order service's own database alone (created and migrated), for tests of its SQL and saga logic
// without the rest of the mesh.
import { createDatabase, createLogger, type Database } from "@bazaar/platform";
import { dropServiceDatabase, serviceDatabaseUrl, testEnv, uniqueName } from "@bazaar/platform/testing";
import { orderMigrations } from "../migrations/index.ts";
import { orderEntities } from "../src/entities.ts";

/** A fresh order database named after `prefix`; `close()` closes and drops it. */
export async function openOrderDatabase(prefix: string): Promise<{ database: Database; close(): Promise<void> }> {
  const name = uniqueName(prefix);
  const database = await createDatabase({
    url: testEnv.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    dbName: new URL(serviceDatabaseUrl(name)).pathname.slice(1),
    entities: orderEntities,
    migrations: orderMigrations,
    logger: createLogger({ service: prefix, level: "silent" }),
  });
  return {
    database,
    async close() {
      await database.close();
      await dropServiceDatabase(name);
    },
  };
}
