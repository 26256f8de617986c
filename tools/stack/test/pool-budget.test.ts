// The stack sizes each process's connection pool so the whole mesh fits in PostgreSQL's max_connections.
import test from "ava";
import pg from "pg";
import { poolBudget } from "../src/index.ts";

const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

test("pools for many processes fit in max_connections, never above the default ceiling", async (t) => {
  const few = await poolBudget(databaseUrl, 2);
  t.true(few.perProcess >= 2 && few.perProcess <= 10, `per process ${few.perProcess}`);

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ max: string }>("select current_setting('max_connections') as max");
  await client.end();
  t.is(few.maxConnections, Number(rows[0]!.max));

  // Two instances of eight services: the pools, one listener each, and a restarting process's share fit.
  const many = await poolBudget(databaseUrl, 16);
  // Below the ceiling of 10 when max_connections is small (100); at the ceiling on a larger server (CI's 300).
  t.true(many.perProcess >= 2 && many.perProcess <= 10 && many.perProcess <= few.perProcess, `per process ${many.perProcess}`);
  t.true((16 + 1) * (many.perProcess + 1) <= many.maxConnections, "every process and one restarting fit");
});
