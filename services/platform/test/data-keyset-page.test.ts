// Keyset paging against the real PostgreSQL: every row once across pages in either direction, on
// compound keys and timestamps, tokens bound to their query, and sizes checked with the other fields.
import test from "ava";
import { defineEntity, p } from "@mikro-orm/core";
import { Migration } from "@mikro-orm/migrations";
import { createDatabase, type Database } from "../src/data/database.ts";
import { keysetPage, readPage, type Keyset } from "../src/data/keyset-page.ts";
import { typedQueries } from "../src/data/kysely.ts";
import { violations } from "../src/errors-interceptor.ts";
import { dropDatabase, quietLogger, serverUrl, uniqueName } from "./fixtures/events/support.ts";

const Entry = defineEntity({
  name: "Entry",
  tableName: "page_entry",
  properties: {
    id: p.integer().primary().autoincrement(false),
    shelf: p.text(),
    at: p.datetime(),
  },
});
const entities = [Entry] as const;

class CreateEntries extends Migration {
  override name = "test_0001_page_entry";
  override up(): void {
    this.addSql("create table page_entry (id integer primary key, shelf text not null, at timestamptz not null)");
    // 25 rows, shelves a–e (5 each), timestamps repeating so that only (at, id) is unique.
    this.addSql(`insert into page_entry select i, chr(97 + i % 5), timestamptz '2026-12-07T00:00:00Z' + (i % 7) * interval '1 second' from generate_series(1, 25) i`);
  }
}

async function open(t: { teardown(fn: () => Promise<void>): void }): Promise<Database> {
  const dbName = uniqueName("bazaar_test");
  t.teardown(() => dropDatabase(dbName));
  const database = await createDatabase({ url: serverUrl, dbName, entities: [...entities], migrations: [CreateEntries], events: false, logger: quietLogger() });
  t.teardown(() => database.close());
  return database;
}

const RULE = { default: 10, max: 50 };

async function walk(database: Database, keyset: Keyset, pageSize: number, shelf?: string) {
  const seen: { id: number; at: Date }[] = [];
  let pageToken = "";
  let pages = 0;
  do {
    const v = violations();
    const page = readPage(v, { pageSize, pageToken }, RULE, { rpc: "ListEntries", shelf }, keyset);
    v.throwIfAny();
    const select = typedQueries(database.em(), entities)
      .selectFrom("page_entry")
      .select(["id", "at"])
      .$if(shelf !== undefined, (q) => q.where("shelf", "=", shelf!));
    const result = await keysetPage(select, page);
    seen.push(...result.rows);
    pageToken = result.nextPageToken;
    pages += 1;
  } while (pageToken !== "");
  return { ids: seen.map((row) => row.id), pages };
}

test("pages walk every row once, in order, on a compound key with a timestamp, ascending and descending", async (t) => {
  const database = await open(t);
  const expected = Array.from({ length: 25 }, (_, i) => i + 1).sort((a, b) => a % 7 - b % 7 || a - b);
  const ascending = await walk(database, { columns: ["at", "id"], direction: "asc" }, 4);
  t.deepEqual(ascending.ids, expected);
  t.is(ascending.pages, 7);
  const descending = await walk(database, { columns: ["at", "id"], direction: "desc" }, 4);
  t.deepEqual(descending.ids, [...expected].reverse());
});

test("a page that ends exactly at the last row has no next token; filters apply with the cut", async (t) => {
  const database = await open(t);
  const whole = await walk(database, { columns: ["id"], direction: "desc" }, 5, "a");
  t.deepEqual(whole.ids, [25, 20, 15, 10, 5]);
  t.is(whole.pages, 1);
  const byTwo = await walk(database, { columns: ["id"], direction: "desc" }, 2, "a");
  t.deepEqual(byTwo.ids, [25, 20, 15, 10, 5]);
  t.is(byTwo.pages, 3);
});

test("a token from other filters or another order, a malformed token and a bad size are all reported at once", (t) => {
  const keyset: Keyset = { columns: ["id"], direction: "desc", valid: ([id]) => /^\d+$/.test(id!) };
  const first = readPage(violations(), { pageSize: 1, pageToken: "" }, RULE, { rpc: "ListEntries", shelf: "a" }, keyset);
  t.is(first.size, 1);
  t.is(first.after, undefined);
  t.is(readPage(violations(), { pageSize: 0, pageToken: "" }, RULE, {}, keyset).size, RULE.default);

  const token = Buffer.from(JSON.stringify(["x", "1"])).toString("base64url");
  const v = violations();
  readPage(v, { pageSize: 51, pageToken: token }, RULE, { rpc: "ListEntries" }, keyset);
  const error = t.throws(() => v.throwIfAny());
  t.regex(error!.message, /page_size/);
  t.regex(error!.message, /page_token/);
});

test("a token is bound to its filters and its order: replayed elsewhere it is refused", async (t) => {
  const database = await open(t);
  const keyset: Keyset = { columns: ["id"], direction: "asc" };
  const v = violations();
  const page = readPage(v, { pageSize: 2, pageToken: "" }, RULE, { rpc: "ListEntries", shelf: "b" }, keyset);
  const { nextPageToken } = await keysetPage(typedQueries(database.em(), entities).selectFrom("page_entry").select(["id"]).where("shelf", "=", "b"), page);
  t.not(nextPageToken, "");
  const again = readPage(v, { pageSize: 2, pageToken: nextPageToken }, RULE, { rpc: "ListEntries", shelf: "b" }, keyset);
  t.deepEqual(again.after, ["6"]);
  v.throwIfAny();
  for (const [query, order] of [[{ rpc: "ListEntries", shelf: "c" }, keyset], [{ rpc: "ListEntries", shelf: "b" }, { columns: ["id"], direction: "desc" } as Keyset]] as const) {
    const other = violations();
    readPage(other, { pageSize: 2, pageToken: nextPageToken }, RULE, query, order);
    t.throws(() => other.throwIfAny(), { message: /page_token/ });
  }
});
