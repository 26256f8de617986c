// Least privilege in PostgreSQL (DATABASE_OWN_ROLE): each service's database is owned by a role of its
// own name, the service connects as it, and no other service's role may connect — the cart's role
// cannot read identity's database. A database an administrator-run start made earlier is handed over.
import test from "ava";
import pg from "pg";
import { createDatabase, type Database } from "../src/data/database.ts";
import { asRole } from "../src/data/own-role.ts";
import { adminQuery, CreateTestEffect, dropDatabase, Effect, quietLogger, serverUrl, uniqueName } from "./fixtures/events/support.ts";

const dbUrl = (dbName: string) => Object.assign(new URL(serverUrl), { pathname: `/${dbName}` }).toString();

async function ownDatabase(t: { teardown(fn: () => Promise<void>): void }, dbName: string): Promise<Database> {
  t.teardown(async () => {
    await dropDatabase(dbName);
    await adminQuery(`drop role if exists ${pg.escapeIdentifier(dbName)}`);
  });
  const database = await createDatabase({ url: serverUrl, dbName, entities: [Effect], migrations: [CreateTestEffect], logger: quietLogger(), ownRole: true, poolSize: 2 });
  t.teardown(() => database.close());
  return database;
}

/** What PostgreSQL says when `role` connects to `dbName` and reads a table there (undefined: it could). */
async function refusal(role: string, dbName: string, table: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: asRole(dbUrl(dbName), role) });
  try {
    await client.connect();
    await client.query(`select * from ${pg.escapeIdentifier(table)} limit 1`);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  } finally {
    await client.end().catch(() => undefined);
  }
}

test("the cart's role cannot connect to identity's database, nor read it; each role reads its own", async (t) => {
  const suffix = uniqueName("x").slice(2);
  const cart = `bazaar_cart_${suffix}`;
  const identity = `bazaar_identity_${suffix}`;
  const cartDb = await ownDatabase(t, cart);
  await ownDatabase(t, identity);

  t.is(await refusal(cart, identity, "test_effect"), "42501", "insufficient_privilege: CONNECT is revoked from everyone but the owner");
  t.is(await refusal(identity, cart, "platform_outbox"), "42501");
  t.is(await refusal(cart, cart, "test_effect"), undefined);
  t.is(cartDb.url, asRole(dbUrl(cart), cart), "the service itself connects as its role");
  t.deepEqual(await cartDb.em().execute("select current_user as who"), [{ who: cart }]);

  const [role] = await adminQuery<{ rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean }>("select rolsuper, rolcreatedb, rolcreaterole from pg_roles where rolname = $1", [cart]);
  t.deepEqual(role, { rolsuper: false, rolcreatedb: false, rolcreaterole: false });
  const owners = await adminQuery<{ datname: string; owner: string }>("select datname, pg_get_userbyid(datdba) as owner from pg_database where datname in ($1, $2) order by datname", [cart, identity]);
  t.deepEqual(owners, [{ datname: cart, owner: cart }, { datname: identity, owner: identity }]);
});

test("a database an administrator-run start created is handed to the role: its tables become the role's, and a second start migrates as the role", async (t) => {
  const dbName = uniqueName("bazaar_legacy");
  t.teardown(async () => {
    await dropDatabase(dbName);
    await adminQuery(`drop role if exists ${pg.escapeIdentifier(dbName)}`);
  });
  const asAdministrator = await createDatabase({ url: serverUrl, dbName, entities: [Effect], migrations: [CreateTestEffect], logger: quietLogger(), poolSize: 1 });
  await asAdministrator.close();
  const database = await ownDatabase(t, dbName);
  const owners = await database.em().execute<{ tablename: string; tableowner: string }[]>("select tablename, tableowner from pg_tables where schemaname = 'public' order by tablename");
  t.true(owners.length >= 3);
  t.deepEqual([...new Set(owners.map((row) => row.tableowner))], [dbName]);
  await database.em().execute("alter table test_effect add column handed_over boolean");
});

test("instances starting together on a server that has neither the role nor the database all start, as that role", async (t) => {
  // `npm start -- --instances 2` on a new machine: two identities provision the same role and database at once.
  const dbName = uniqueName("bazaar_together");
  t.teardown(async () => {
    await dropDatabase(dbName);
    await adminQuery(`drop role if exists ${pg.escapeIdentifier(dbName)}`);
  });
  const start = () => createDatabase({ url: serverUrl, dbName, entities: [Effect], migrations: [CreateTestEffect], logger: quietLogger(), ownRole: true, poolSize: 1 });
  const starts = await Promise.allSettled([start(), start(), start()]);
  const databases = starts.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  t.teardown(() => Promise.all(databases.map((database) => database.close())).then(() => undefined));
  t.deepEqual(starts.flatMap((s) => (s.status === "rejected" ? [String(s.reason)] : [])), []);
  for (const database of databases) t.deepEqual(await database.em().execute("select current_user as who"), [{ who: dbName }]);
});
