import { create } from "@bufbuild/protobuf";
import test from "ava";
import pg from "pg";
import { createDatabase, DatabaseConfigError, type Database, type DatabaseOptions } from "../src/data/database.ts";
import { publish } from "../src/events/outbox.ts";
import { adminQuery, CreateTestEffect, dropDatabase, Effect, quietLogger, serverUrl, thingHappened, uniqueName } from "./fixtures/events/support.ts";

function options(dbName: string, extra: Partial<DatabaseOptions> = {}): DatabaseOptions {
  return { url: serverUrl, dbName, entities: [Effect], migrations: [CreateTestEffect], logger: quietLogger(), ...extra };
}

async function open(t: { teardown(fn: () => Promise<void>): void }, dbName: string, extra: Partial<DatabaseOptions> = {}): Promise<Database> {
  const database = await createDatabase(options(dbName, extra));
  t.teardown(() => database.close());
  return database;
}

function forDatabase(t: { teardown(fn: () => Promise<void>): void }): string {
  const dbName = uniqueName("bazaar_test");
  // Registered first, so it runs after every close registered later.
  t.teardown(() => dropDatabase(dbName));
  return dbName;
}

async function databaseExists(dbName: string): Promise<boolean> {
  return (await adminQuery("select 1 from pg_database where datname = $1", [dbName])).length === 1;
}

async function appliedMigrations(database: Database): Promise<string[]> {
  const rows = await database.em().execute<{ name: string }[]>("select name from mikro_orm_migrations order by id");
  return rows.map((r) => r.name);
}

test("creates the database when it is missing and applies the platform's migrations, then the service's", async (t) => {
  const dbName = forDatabase(t);
  t.false(await databaseExists(dbName));
  const database = await open(t, dbName);
  t.true(await databaseExists(dbName));
  t.deepEqual(await appliedMigrations(database), ["platform_0001_outbox_inbox", "test_0001_effect"]);
  const tables = await database.em().execute<{ table_name: string }[]>(
    "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
  );
  t.deepEqual(
    tables.map((r) => r.table_name),
    ["mikro_orm_migrations", "platform_inbox", "platform_outbox", "test_effect"],
  );
});

test("a restart applies no migration again", async (t) => {
  const dbName = forDatabase(t);
  const first = await createDatabase(options(dbName));
  await first.close();
  const second = await open(t, dbName);
  t.deepEqual(await second.migrate(), []);
  t.deepEqual(await appliedMigrations(second), ["platform_0001_outbox_inbox", "test_0001_effect"]);
});

test("two instances starting together create the database once and apply each migration once", async (t) => {
  const dbName = forDatabase(t);
  const [a, b] = await Promise.all([createDatabase(options(dbName)), createDatabase(options(dbName))]);
  t.teardown(() => a.close());
  t.teardown(() => b.close());
  t.deepEqual(await appliedMigrations(a), ["platform_0001_outbox_inbox", "test_0001_effect"]);
  t.true(await b.isConnected());
});

test("migrateOnStart false leaves the schema alone until migrate() is called", async (t) => {
  const dbName = forDatabase(t);
  const database = await open(t, dbName, { migrateOnStart: false });
  const before = await database.em().execute<{ n: number }[]>("select count(*)::int as n from information_schema.tables where table_name = 'test_effect'");
  t.is(before[0]!.n, 0);
  t.deepEqual(await database.migrate(), ["platform_0001_outbox_inbox", "test_0001_effect"]);
  await database.transaction(async (em) => {
    em.create(Effect, { eventId: "e1", thingId: "t1", name: "n" });
  });
  t.is(await database.em().count(Effect), 1);
});

test("events: false leaves out the platform's outbox and inbox", async (t) => {
  const dbName = forDatabase(t);
  const database = await open(t, dbName, { events: false });
  t.deepEqual(await appliedMigrations(database), ["test_0001_effect"]);
});

test("a transaction commits the entity and its outbox row together", async (t) => {
  const dbName = forDatabase(t);
  const database = await open(t, dbName);
  const schema = thingHappened(uniqueName("d"));
  const { eventId, subject } = await database.transaction(async (em) => {
    em.create(Effect, { eventId: "x", thingId: "t1", name: "committed" });
    return publish(em, schema, create(schema, { thingId: "t1", name: "committed" }));
  });
  t.regex(eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  t.is(await database.em().count(Effect), 1);
  const rows = await database.em().execute<{ event_id: string; subject: string; type_name: string }[]>("select event_id, subject, type_name from platform_outbox");
  t.deepEqual(rows, [{ event_id: eventId, subject, type_name: schema.typeName }]);
});

test("a transaction that throws rolls back the entity and leaves no outbox row", async (t) => {
  const dbName = forDatabase(t);
  const database = await open(t, dbName);
  const schema = thingHappened(uniqueName("d"));
  const error = await t.throwsAsync(
    database.transaction(async (em) => {
      em.create(Effect, { eventId: "x", thingId: "t1", name: "doomed" });
      await em.flush();
      await publish(em, schema, create(schema, { thingId: "t1", name: "doomed" }));
      throw new Error("business rule said no");
    }),
  );
  t.is(error?.message, "business rule said no");
  t.is(await database.em().count(Effect), 0);
  const rows = await database.em().execute<{ n: number }[]>("select count(*)::int as n from platform_outbox");
  t.is(rows[0]!.n, 0);
});

test("em() gives a fresh EntityManager with its own identity map each time", async (t) => {
  const dbName = forDatabase(t);
  const database = await open(t, dbName);
  await database.transaction(async (em) => {
    em.create(Effect, { eventId: "e", thingId: "t", name: "n" });
  });
  const a = database.em();
  const b = database.em();
  t.not(a, b);
  const fromA = await a.findOneOrFail(Effect, { eventId: "e" });
  const fromB = await b.findOneOrFail(Effect, { eventId: "e" });
  t.not(fromA, fromB);
  fromA.name = "changed in a";
  await a.flush();
  t.is(fromB.name, "n");
});

test("poolSize caps the connections the service opens", async (t) => {
  const dbName = forDatabase(t);
  const database = await open(t, dbName, { poolSize: 2 });
  let most = 0;
  let done = false;
  const watcher = (async () => {
    while (!done) {
      const [row] = await adminQuery<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = $1 and backend_type = 'client backend'",
        [dbName],
      );
      most = Math.max(most, row!.n);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  await Promise.all(Array.from({ length: 6 }, () => database.transaction((em) => em.execute("select pg_sleep(0.15)"))));
  done = true;
  await watcher;
  t.true(most >= 1, "the watcher saw the pool at work");
  t.true(most <= 2, `at most 2 connections, saw ${most}`);
});

test("isConnected is true while connected and false once closed", async (t) => {
  const dbName = forDatabase(t);
  const database = await createDatabase(options(dbName));
  t.true(await database.isConnected());
  await database.close();
  t.false(await database.isConnected());
});

test("readiness holds while a saturated pool keeps answering: the ping does not queue behind the service's own queries", async (t) => {
  const dbName = forDatabase(t);
  const database = await open(t, dbName, { poolSize: 1 });
  // Five seconds of short queries queued on one connection: a ping behind them would wait past its two seconds.
  const busy = Promise.all(Array.from({ length: 100 }, () => database.transaction((em) => em.execute("select pg_sleep(0.05)"))));
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.true(await database.isConnected());
  await busy;
});

test("bad options are refused with a message naming the problem", async (t) => {
  const badName = await t.throwsAsync(createDatabase(options("Bazaar-Order")), { instanceOf: DatabaseConfigError });
  t.regex(badName!.message, /dbName "Bazaar-Order"/);
  const badUrl = await t.throwsAsync(createDatabase({ ...options("bazaar_x"), url: "localhost:5432" }), { instanceOf: DatabaseConfigError });
  t.regex(badUrl!.message, /postgres:\/\//);
  const badPool = await t.throwsAsync(createDatabase({ ...options("bazaar_x"), poolSize: 0 }), { instanceOf: DatabaseConfigError });
  t.regex(badPool!.message, /poolSize/);
});

test("the database url's own database part is ignored in favour of dbName", async (t) => {
  const dbName = forDatabase(t);
  const url = new URL(serverUrl);
  url.pathname = "/some_other_db";
  const database = await open(t, dbName, { url: url.toString() });
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  t.teardown(() => client.end());
  const { rows } = await client.query<{ db: string }>("select current_database() as db");
  t.is(rows[0]!.db, dbName);
});
