// @bazaar/platform/testing's mesh starter: unique names, upstreams wired by key, clients that follow a
// restart, and a teardown that stops services in reverse stage order and drops their databases.
import test from "ava";
import pg from "pg";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { testService } from "./fixtures/runtime/test-service.ts";
import { platformConfigSchema } from "../src/index.ts";
import { meshService, passingInstances, startTestMesh, testEnv } from "../src/testing.ts";

/** A service without a database whose stop is recorded in `stopped`. */
const recorded = (stopped: string[], key: string) =>
  meshService<typeof platformConfigSchema, undefined>({
    define: (name) => ({ name, setup: () => ({ routes: () => {}, background: () => [{ stop: () => void stopped.push(key) }] }) }),
  });

async function databaseExists(name: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: testEnv.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" });
  await admin.connect();
  try {
    const { rows } = await admin.query("select 1 from pg_database where datname = $1", [`bazaar_${name.replaceAll("-", "_")}`]);
    return rows.length > 0;
  } finally {
    await admin.end();
  }
}

test("startTestMesh names every service uniquely, wires its calls to those names and waits until called services pass in Consul", async (t) => {
  const teardowns: (() => Promise<void> | void)[] = [];
  const stopped: string[] = [];
  const mesh = await startTestMesh<"platformtest" | "first" | "absent" | "child">(
    { teardown: (fn) => void teardowns.push(fn) },
    {
      stages: [{ first: recorded(stopped, "first") }, { platformtest: meshService({ define: (name) => testService({ name }), calls: ["platformtest", "absent"] }) }],
      named: ["child"],
    },
  );
  try {
    const { names } = mesh;
    t.regex(names.platformtest, /^platformtest-[0-9a-f]{8}$/);
    t.regex(names.absent, /^absent-[0-9a-f]{8}$/, "a called service the mesh does not start is named uniquely too");
    t.regex(names.child, /^child-[0-9a-f]{8}$/);
    t.deepEqual(mesh.service("platformtest").runtime.config.UPSTREAMS, { platformtest: names.platformtest, absent: names.absent });
    t.is(mesh.envOf("platformtest").UPSTREAMS, `platformtest=${names.platformtest},absent=${names.absent}`);
    t.true((await passingInstances(names.platformtest)).length > 0);
    t.throws(() => mesh.service("absent"), { message: "the mesh runs no absent in-process" });

    const client = mesh.client(TestService, "platformtest");
    const first = await client.echo({ message: "hello" });
    await mesh.stop("platformtest");
    await mesh.restart("platformtest");
    const again = await client.echo({ message: "again" });
    t.not(again.instanceId, first.instanceId, "the client followed the restarted service");
    t.true(await databaseExists(names.platformtest));
    t.deepEqual(await mesh.sql<{ n: number }>("platformtest", "select count(*)::int as n from thing"), [{ n: 0 }]);
  } finally {
    for (const fn of teardowns.reverse()) await fn();
  }
  t.deepEqual(stopped, ["first"]);
  t.false(await databaseExists(mesh.names.platformtest), "the databases are dropped at teardown");
  t.deepEqual(await passingInstances(mesh.names.platformtest), []);
});

test("startTestMesh stops every service it started at teardown, also when a later one fails to start", async (t) => {
  const teardowns: (() => Promise<void> | void)[] = [];
  const stopped: string[] = [];
  const failing = meshService<typeof platformConfigSchema, undefined>({
    define: (name) => ({ name, setup: () => Promise.reject(new Error("no setup today")) }),
  });
  await t.throwsAsync(
    startTestMesh({ teardown: (fn) => void teardowns.push(fn) }, { stages: [{ a: recorded(stopped, "a") }, { b: recorded(stopped, "b"), c: failing }] }),
    { message: "no setup today" },
  );
  for (const fn of teardowns.reverse()) await fn();
  t.deepEqual(stopped.sort(), ["a", "b"]);
});
