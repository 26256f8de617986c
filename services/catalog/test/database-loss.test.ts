// The catalog's own PostgreSQL sessions are terminated (as a database restart or failover does) while a
// call waits on its query: a read-only call is run once more on a fresh connection and succeeds, a write
// answers unavailable (retryable), never internal. The shared PostgreSQL keeps running: only this test's
// database's backends are terminated, by a session of its own that also holds the lock the calls wait on.
import test from "ava";
import pg from "pg";
import { Code, ConnectError } from "@connectrpc/connect";
import { serviceDatabaseUrl } from "@bazaar/platform/testing";
import { category, product } from "./fixtures.ts";
import { eventually, startCatalog } from "./helpers.ts";

/** A session on the service's database holding an exclusive lock on `table` until release(). */
async function lockTable(t: { teardown(fn: () => Promise<void>): void }, name: string, table: string) {
  const session = new pg.Client({ connectionString: serviceDatabaseUrl(name) });
  await session.connect();
  t.teardown(() => session.end().catch(() => undefined));
  await session.query("begin");
  await session.query(`lock table ${table} in access exclusive mode`);
  const dbName = `bazaar_${name.replaceAll("-", "_")}`;
  return {
    /** Backends of the service waiting for this lock. */
    waiting: async () =>
      (await session.query("select count(*)::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and wait_event_type = 'Lock'", [dbName])).rows[0].n as number,
    /** Terminates every other backend of the service's database, as an administrator or a restart would. */
    terminateOthers: async () =>
      (await session.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()", [dbName])).rowCount ?? 0,
    release: () => session.query("rollback"),
  };
}

test("a read-only call whose database session is terminated mid-query is retried on a fresh connection and succeeds", async (t) => {
  const { admin, anonymous, name } = await startCatalog(t);
  const shoes = await category(admin, "Shoes");
  const boot = await product(admin, { name: "Hiking Boot", category: shoes });

  const lock = await lockTable(t, name, "product");
  const read = anonymous.getProduct({ id: boot.id });
  await eventually("the read waiting on the lock", async () => (await lock.waiting()) > 0);
  t.true((await lock.terminateOthers()) > 0);
  await lock.release();
  const { product: found } = await read;
  t.is(found?.id, boot.id);
  // And the service keeps answering afterwards.
  t.is((await anonymous.getProduct({ id: boot.id })).product?.name, "Hiking Boot");
});

test("a write whose database session is terminated mid-query answers unavailable, not internal, and the next one works", async (t) => {
  const { admin, name } = await startCatalog(t);
  const shoes = await category(admin, "Shoes");

  const lock = await lockTable(t, name, "product");
  const write = product(admin, { name: "Trail Runner", category: shoes });
  await eventually("the write waiting on the lock", async () => (await lock.waiting()) > 0);
  t.true((await lock.terminateOthers()) > 0);
  await lock.release();
  const error = ConnectError.from(await t.throwsAsync(write));
  t.is(error.code, Code.Unavailable, error.message);
  t.is((await product(admin, { name: "Trail Runner", category: shoes })).name, "Trail Runner");
});
