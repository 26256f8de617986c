// Production's migration Job runs a service's main with the argument `migrate`: migrateService applies
// the platform's and the service's migrations, as the configured role, and nothing else.
import test from "ava";
import pg from "pg";
import { migrateService } from "../src/migrate.ts";
import { asRole } from "../src/data/own-role.ts";
import { adminQuery, CreateTestEffect, dropDatabase, Effect, quietLogger, serverUrl, uniqueName } from "./fixtures/events/support.ts";

test("migrate applies the platform's and the service's migrations once, in a database its own role owns", async (t) => {
  const name = uniqueName("migrate");
  const dbName = `bazaar_${name.replaceAll("-", "_")}`;
  t.teardown(async () => {
    await dropDatabase(dbName);
    await adminQuery(`drop role if exists ${pg.escapeIdentifier(dbName)}`);
  });
  const definition = { name, database: { entities: [Effect], migrations: [CreateTestEffect] }, publishes: [name] };
  const options = { config: { DATABASE_URL: serverUrl, DATABASE_OWN_ROLE: true }, logger: quietLogger() };

  const applied = await migrateService(definition, options);
  t.true(applied.length > 1, `the platform's migrations and the service's: ${applied.join(", ")}`);
  t.is(applied.at(-1), "test_0001_effect", "the service's own migration runs last");
  t.deepEqual(await migrateService(definition, options), [], "nothing is pending the second time");

  const [owner] = await adminQuery<{ owner: string }>("select pg_get_userbyid(datdba) as owner from pg_database where datname = $1", [dbName]);
  t.is(owner?.owner, dbName);
  const url = Object.assign(new URL(asRole(serverUrl, dbName)), { pathname: `/${dbName}` }).toString();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = (await client.query<{ tablename: string; tableowner: string }>("select tablename, tableowner from pg_tables where schemaname = 'public' order by 1")).rows;
    const names = tables.map((r) => r.tablename);
    for (const table of ["outbox", "inbox"]) t.true(names.some((n) => n.includes(table)), `${table} table made: ${names.join(", ")}`);
    t.true(tables.every((r) => r.tableowner === dbName), "every table belongs to the service's role");
  } finally {
    await client.end();
  }
});

test("a service without a database has nothing to migrate", async (t) => {
  t.deepEqual(await migrateService({ name: "no-database" }, { config: { DATABASE_URL: "postgres://nobody@127.0.0.1:1/postgres", DATABASE_OWN_ROLE: false }, logger: quietLogger() }), []);
});
