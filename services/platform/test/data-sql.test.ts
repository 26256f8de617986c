// The platform's raw-SQL helpers against the real PostgreSQL, and schemaDrift seeing what it must.
import test from "ava";
import { defineEntity, p } from "@mikro-orm/core";
import { Migration } from "@mikro-orm/migrations";
import { createDatabase, type Database } from "../src/data/database.ts";
import { asDate, isForeignKeyViolation, isUniqueViolation, pgArray, placeholders, postgresError, query } from "../src/data/sql.ts";
import { schemaDrift } from "../src/testing.ts";
import { dropDatabase, quietLogger, serverUrl, uniqueName } from "./fixtures/events/support.ts";

const Thing = defineEntity({
  name: "Thing",
  tableName: "sql_thing",
  uniques: [{ name: "sql_thing_name_key", properties: ["name"] }],
  properties: {
    id: p.integer().primary().autoincrement(false),
    name: p.text(),
    parentId: p.integer().nullable(),
  },
});

class CreateThing extends Migration {
  override name = "test_0001_sql_thing";
  override up(): void {
    this.addSql(`create table sql_thing (id integer primary key, name text not null constraint sql_thing_name_key unique,
      parent_id integer references sql_thing (id), constraint sql_thing_name_short check (length(name) < 100))`);
  }
}

async function open(t: { teardown(fn: () => Promise<void>): void }): Promise<Database> {
  const dbName = uniqueName("bazaar_test");
  t.teardown(() => dropDatabase(dbName));
  const database = await createDatabase({ url: serverUrl, dbName, entities: [Thing], migrations: [CreateThing], events: false, logger: quietLogger() });
  t.teardown(() => database.close());
  return database;
}

test("pgArray passes any strings as one array parameter: commas, quotes, backslashes, braces, NULL and empty stay text", async (t) => {
  const database = await open(t);
  const values = ["plain", "a,b", 'say "hi"', "back\\slash", "{braces}", "NULL", "", " spaced "];
  const [row] = await query<{ values: string[] }>(database.em(), "select ?::text[] as values", [pgArray(values)]);
  t.deepEqual(row!.values, values);
  const [none] = await query<{ n: number }>(database.em(), "select cardinality(?::text[]) as n", [pgArray([])]);
  t.is(Number(none!.n), 0);
});

test("query runs in the caller's transaction, with placeholders for a list", async (t) => {
  const database = await open(t);
  await database.transaction(async (em) => {
    await query(em, `insert into sql_thing (id, name) values (${placeholders(2)}), (${placeholders(2)})`, [1, "one", 2, "two"]);
    t.is((await query(em, "select id from sql_thing")).length, 2);
  });
  const [row] = await query<{ at: unknown }>(database.em(), "select now() as at");
  t.true(asDate(row!.at) instanceof Date);
  t.false(Number.isNaN(asDate("2026-12-07T03:00:00.000Z").getTime()));
});

test("a unique violation is recognised by its constraint name through MikroORM's wrapping, a foreign-key violation as such", async (t) => {
  const database = await open(t);
  await query(database.em(), "insert into sql_thing (id, name) values (1, 'one')");
  const duplicate = await t.throwsAsync(query(database.em(), "insert into sql_thing (id, name) values (2, 'one')"));
  t.true(isUniqueViolation(duplicate, "sql_thing_name_key"));
  t.false(isUniqueViolation(duplicate, "sql_thing_pkey"));
  t.false(isForeignKeyViolation(duplicate));
  t.deepEqual(postgresError(duplicate), { code: "23505", constraint: "sql_thing_name_key" });

  const samePk = await t.throwsAsync(query(database.em(), "insert into sql_thing (id, name) values (1, 'other')"));
  t.true(isUniqueViolation(samePk, "sql_thing_pkey"));

  const orphan = await t.throwsAsync(query(database.em(), "insert into sql_thing (id, name, parent_id) values (3, 'three', 99)"));
  t.true(isForeignKeyViolation(orphan));
  t.false(isUniqueViolation(orphan, "sql_thing_name_key"));
  t.is(postgresError(new Error("not a database error")), undefined);
});

test("schemaDrift is empty when entities match the migrations (CHECK and foreign keys left to them), and names what differs otherwise", async (t) => {
  t.deepEqual(await schemaDrift({ entities: [Thing], migrations: [CreateThing], events: false }), []);

  const Drifted = defineEntity({
    name: "Thing",
    tableName: "sql_thing",
    properties: {
      id: p.integer().primary().autoincrement(false),
      name: p.string(),
      parentId: p.integer().nullable(),
      extra: p.boolean(),
    },
  });
  const drift = await schemaDrift({ entities: [Drifted], migrations: [CreateThing], events: false });
  t.true(drift.some((statement) => /add "?extra"? boolean/.test(statement)), drift.join("\n"));
  t.true(drift.some((statement) => statement.includes('alter column "name" type varchar(255)')), drift.join("\n"));
  t.true(drift.some((statement) => statement.includes('drop constraint "sql_thing_name_key"')), drift.join("\n"));
});
