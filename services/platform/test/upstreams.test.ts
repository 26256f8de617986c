// Which Consul name a call goes to (upstreams), and what the definition's type says about the runtime
// its setup gets: plain functions and the type checker, no infrastructure.
import test from "ava";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { ConfigError, loadConfig } from "../src/config.ts";
import { platformConfigSchema } from "../src/config/platform-schema.ts";
import { parseUpstreams, upstreamName } from "../src/clients/upstreams.ts";
import type { Database } from "../src/data/database.ts";
import type { ServiceDefinition } from "../src/service.ts";

test("a call goes to the package's Consul name unless the upstreams rename it", (t) => {
  t.is(upstreamName(TestService), "platformtest");
  t.is(upstreamName(TestService, { catalog: "catalog-blue" }), "platformtest");
  t.is(upstreamName(TestService, { platformtest: "pt-1234" }), "pt-1234");
});

test("UPSTREAMS is read as name=consul-name pairs, and a malformed list is refused naming the variable", (t) => {
  t.deepEqual(parseUpstreams(" catalog=catalog-blue, inventory=inventory-2 ,"), { catalog: "catalog-blue", inventory: "inventory-2" });
  t.deepEqual(parseUpstreams(""), {});
  t.is(loadConfig(platformConfigSchema, { BAZAAR_ENV: "development" }).UPSTREAMS, undefined);
  t.deepEqual(loadConfig(platformConfigSchema, { BAZAAR_ENV: "development", UPSTREAMS: "cart=cart-7" }).UPSTREAMS, { cart: "cart-7" });
  for (const bad of ["catalog", "catalog=", "=catalog", "bazaar.catalog.v1.CatalogService=catalog-blue", "catalog=a b"]) {
    const error = t.throws(() => loadConfig(platformConfigSchema, { BAZAAR_ENV: "development", UPSTREAMS: bad }), { instanceOf: ConfigError }, bad);
    t.regex(error?.message ?? "", /UPSTREAMS/, bad);
  }
});

test("the runtime a setup gets has the database exactly when the definition declares one", (t) => {
  // Checked by the type checker (npm run typecheck): each @ts-expect-error fails the build once it no longer errs.
  const withDatabase: ServiceDefinition<Database> = {
    name: "with-database",
    database: { entities: [], migrations: [] },
    setup: (runtime) => ({ routes: () => void runtime.database.em() }),
  };
  const without: ServiceDefinition<undefined> = {
    name: "without",
    // @ts-expect-error: no database declared, so none to use.
    setup: (runtime) => ({ routes: () => void runtime.database.em() }),
  };
  // @ts-expect-error: a definition typed with a database must declare it.
  const undeclared: ServiceDefinition<Database> = { name: "undeclared", setup: () => ({ routes: () => {} }) };
  t.deepEqual([withDatabase.name, without.name, undeclared.name], ["with-database", "without", "undeclared"]);
});
