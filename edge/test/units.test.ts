// The edge's pieces as plain functions: token buckets, the response cache, the surface's descriptors
// and the OpenAPI mapping. No network.
import test from "ava";
import { CatalogService } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { createLogger, createTokenVerifier } from "@bazaar/platform";
import { createEdge, generateOpenApi, publicServices, surface } from "../src/index.ts";
import { createResponseCache } from "../src/http-cache.ts";
import { createRateLimiter } from "../src/rate-limit.ts";
import { createClientAddress } from "../src/client-address.ts";

test("a token bucket allows its burst, then refuses with the seconds until the next token, and refills", (t) => {
  let now = 0;
  const limiter = createRateLimiter({ now: () => now });
  const limit = { perSecond: 0.5, burst: 2 };
  t.is(limiter.take("a", limit), 0);
  t.is(limiter.take("a", limit), 0);
  t.is(limiter.take("a", limit), 2, "one token takes 2 s at 0.5/s");
  t.is(limiter.take("b", limit), 0, "buckets are per key");
  now += 2_000;
  t.is(limiter.take("a", limit), 0, "refilled after 2 s");
  t.is(limiter.take("a", limit), 2);
});

test("the response cache returns fresh entries, expires them, and evicts the least recently used", (t) => {
  let now = 0;
  const cache = createResponseCache({ ttlMs: 50, maxEntries: 2, now: () => now });
  const entry = (text: string) => ({ headers: { "content-type": "application/json" }, body: Buffer.from(text), etag: `"${text}"` });
  cache.set("a", entry("a"));
  cache.set("b", entry("b"));
  t.is(cache.get("a")?.etag, '"a"');
  cache.set("c", entry("c"));
  t.is(cache.get("b"), undefined, "b was the least recently used");
  t.is(cache.get("a")?.etag, '"a"');
  now += 49;
  t.is(cache.get("a")?.etag, '"a"', "fresh until its ttl");
  now += 1;
  t.is(cache.get("a"), undefined, "expired after its ttl");
  const off = createResponseCache({ ttlMs: 0 });
  off.set("a", entry("a"));
  t.is(off.get("a"), undefined, "max-age 0 caches nothing");
});

test("the public surface keeps only the listed methods and refuses names the service lacks", (t) => {
  const services = publicServices(surface);
  const catalog = services.find((s) => s.service.typeName === CatalogService.typeName)!;
  t.true(catalog.methods.has("ListProducts"));
  t.is(catalog.methods.get("CreateProduct")?.access, "admin");
  const inventory = services.find((s) => s.service.typeName === "bazaar.inventory.v1.InventoryService")!;
  t.false(inventory.service.methods.some((m) => m.name === "ReserveStock"));
  t.throws(() => publicServices([{ service: CatalogService, methods: { NoSuchMethod: "public" } as never }]), { message: /has no method NoSuchMethod/ });
});

test("the OpenAPI document maps int64 to strings, enums to names and Timestamps to date-time", (t) => {
  const doc = generateOpenApi(publicServices(surface), { title: "t", version: "1" }) as { paths: Record<string, any>; components: { schemas: Record<string, any> } };
  t.deepEqual(doc.components.schemas["bazaar.type.v1.Money"].properties.amountMinor, { type: "string", format: "int64" });
  t.true(doc.components.schemas["bazaar.catalog.v1.ProductStatus"].enum.includes("PRODUCT_STATUS_ACTIVE"));
  t.deepEqual(doc.components.schemas["bazaar.catalog.v1.Product"].properties.createTime, { type: "string", format: "date-time" });
  t.truthy(doc.paths["/bazaar.catalog.v1.CatalogService/GetProduct"].get, "NO_SIDE_EFFECTS methods get a GET");
  t.falsy(doc.paths["/bazaar.catalog.v1.CatalogService/CreateProduct"].get);
  t.deepEqual(doc.paths["/bazaar.catalog.v1.CatalogService/CreateProduct"].post.security, [{ bearer: [] }]);
});

test("a CORS allow-list with * is refused at start", (t) => {
  const verifier = createTokenVerifier({ jwks: { keys: [] }, issuer: "i", audience: "a" });
  t.throws(() => createEdge({ logger: createLogger({ service: "edge", level: "silent" }), verifier, consulAddr: "127.0.0.1:8500", corsOrigins: ["*"] }), {
    message: /never \*/,
  });
});

test("client address: forwarded headers count only from trusted proxies, right-most untrusted hop wins", (t) => {
  const untrusting = createClientAddress();
  t.is(untrusting("::ffff:198.51.100.1", "1.2.3.4"), "198.51.100.1");
  const behindProxies = createClientAddress(["10.0.0.0/8", "fd00::/8"]);
  t.is(behindProxies("10.0.0.5", "6.6.6.6, 203.0.113.9, 10.2.2.2"), "203.0.113.9");
  t.is(behindProxies("198.51.100.1", "203.0.113.9"), "198.51.100.1", "an untrusted peer's header is ignored");
  t.is(behindProxies("fd00::1", "10.1.1.1"), "10.1.1.1", "only proxies all the way: the left-most hop");
  t.throws(() => createClientAddress(["not-an-ip"]), { message: /not an IP/ });
});
