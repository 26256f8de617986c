// `npm run bench:checkout`: guest checkouts end to end through catalog, inventory, shipping, cart, payment and
// order, each its own process, over a seeded catalog: checkouts per second with p50/p99 at a few
// concurrencies, then 200 concurrent checkouts for the last 50 units of one SKU (exactly 50 must
// be sold). Prints the figures and records them in BENCHMARKS.md.
//
// Finding the cost: BENCH_CPU_PROF_DIR=<dir> writes a V8 CPU profile of each service process there
// (<service>.cpuprofile, at exit); BENCH_SQL_COUNT_DIR=<dir> counts each service's SQL statements by
// shape (<service>.json). BENCH_CONCURRENCIES=16 BENCH_DURATION_MS=15000 suits a profile.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { connect as connectNats } from "nats";
import pg from "pg";
import { bundleArgs, buildServiceBundles, createSupervisor, ensureInfrastructure, repositoryRoot, stackSettings, waitFor } from "@bazaar/stack";
import { CART_TOKEN_HEADER, createDatabase, createLogger, failureOf, natsServers } from "@bazaar/platform";
import { catalogEntities, catalogMigrations, seedCatalog } from "@bazaar/catalog";
import { inventoryEntities, inventoryMigrations, seedStock } from "@bazaar/inventory";
import { CartService } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { CatalogService, ProductStatus } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { OrderService, OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { runLoad, summarize, type LoadResult } from "../../platform/bench/load.ts";
import { cpuSince, type ProcessGroups } from "../../platform/bench/process-cpu.ts";
import { recordSection } from "../../platform/bench/report.ts";

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const concurrencies = (process.env.BENCH_CONCURRENCIES ?? "1,4,8,32").split(",").map(Number);
const products = Number(process.env.BENCH_PRODUCTS ?? 300);
const services = ["catalog", "inventory", "shipping", "promotion", "cart", "payment", "order"] as const;
const tag = randomBytes(3).toString("hex");
const names = Object.fromEntries(services.map((s) => [s, `${s}-bench-${tag}`])) as Record<(typeof services)[number], string>;
const dbOf = (name: string) => `bazaar_${name.replaceAll("-", "_")}`;

const settings = stackSettings();
const supervisor = createSupervisor({ write: () => {} });
const infra = await ensureInfrastructure(settings, supervisor);
const env: NodeJS.ProcessEnv = { ...process.env, ...infra.env, BAZAAR_ENV: "development", LOG_LEVEL: "warn", BENCH_NAMES: JSON.stringify(names) };

const kid = "bench";
const { privateKey, publicKey } = await generateKeyPair("EdDSA");
const sign = (subject: string, roles: string[], service: boolean) =>
  new SignJWT({ roles, ...(service ? { svc: true } : {}) })
    .setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt" })
    .setIssuer("bazaar-identity")
    .setAudience("bazaar")
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime("2h")
    .setJti(randomUUID())
    .sign(privateKey);
const jwk = JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" });

// Each service process runs bundled, as npm start and the images run them.
const serviceProcess = { dir: fileURLToPath(new URL(".", import.meta.url)), entry: fileURLToPath(new URL("./service-process.ts", import.meta.url)) };
await buildServiceBundles([serviceProcess]);
const children: ChildProcess[] = [];
const pids: Partial<Record<(typeof services)[number], number>> = {};
function start(service: (typeof services)[number], token: string): Promise<number> {
  // BENCH_CPU_PROF_DIR: each service writes a V8 CPU profile there when it stops (for finding the cost).
  const profile = process.env.BENCH_CPU_PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`, `--cpu-prof-name=${service}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...profile, ...bundleArgs(serviceProcess)], {
    env: { ...env, BENCH_SERVICE: service, BENCH_JWK: jwk, BENCH_TOKEN: token },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  pids[service] = child.pid!;
  return new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${service} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const match = /^port (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
  });
}

const withHeaders = (headers: Record<string, string>): Interceptor => (next) => (request) => {
  for (const [key, value] of Object.entries(headers)) request.header.set(key, value);
  return next(request);
};
const transport = (port: number, headers: Record<string, string> = {}) =>
  createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, interceptors: [withHeaders(headers)] });

try {
  // The seeded demo catalog, with ample stock for every SKU.
  const logger = createLogger({ service: "bench", level: "warn" });
  const catalogDb = await createDatabase({ url: env.DATABASE_URL!, dbName: dbOf(names.catalog), entities: catalogEntities, migrations: catalogMigrations, logger });
  const seeded = await seedCatalog(catalogDb, { products });
  await catalogDb.close();
  const inventoryDb = await createDatabase({ url: env.DATABASE_URL!, dbName: dbOf(names.inventory), entities: inventoryEntities, migrations: inventoryMigrations, logger });
  await seedStock(inventoryDb, seeded.stock.map((s) => ({ sku: s.sku, onHand: 1_000_000 })));
  await inventoryDb.close();
  console.log(`seeded ${seeded.products} products, ${seeded.stock.length} SKUs`);

  const ports = Object.fromEntries(
    await Promise.all(services.map(async (s) => [s, await start(s, await sign(s, [], true))] as const)),
  ) as Record<(typeof services)[number], number>;
  // Calls between the services go through Consul: wait until every one of them passes its check.
  await Promise.all(
    services.map((s) =>
      waitFor(
        async () => {
          const response = await fetch(`http://${env.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500"}/v1/health/service/${names[s]}?passing=true`);
          return response.ok && ((await response.json()) as unknown[]).length > 0;
        },
        { what: `${names[s]} passing in Consul` },
      ),
    ),
  );
  // A new durable consumer (the order service's, under this run's name) first reads the history of
  // its stream, left by every earlier run and test: measure checkouts, not that catch-up.
  const nats = await connectNats(natsServers(env.NATS_URL!));
  const caughtUp = performance.now();
  try {
    const jsm = await nats.jetstreamManager();
    await waitFor(
      async () => {
        for await (const stream of jsm.streams.list()) {
          for await (const consumer of jsm.consumers.list(stream.config.name)) {
            if (consumer.name.includes(`-bench-${tag}`) && (consumer.num_pending > 0 || consumer.num_ack_pending > 0)) return false;
          }
        }
        return true;
      },
      { what: "the bench services' event consumers to catch up with their streams", timeoutMs: 300_000, intervalMs: 500 },
    );
  } finally {
    await nats.close();
  }
  console.log(`event consumers caught up in ${((performance.now() - caughtUp) / 1000).toFixed(1)} s`);
  const admin = { authorization: `Bearer ${await sign("bench-admin", ["customer", "admin"], false)}` };
  const catalogClient = createClient(CatalogService, transport(ports.catalog, admin));
  const inventoryAdmin = createClient(InventoryService, transport(ports.inventory, admin));
  const carts = createClient(CartService, transport(ports.cart));
  const cartFor = (token: string) => createClient(CartService, transport(ports.cart, { [CART_TOKEN_HEADER]: token }));
  const ordersFor = (token: string) => createClient(OrderService, transport(ports.order, { [CART_TOKEN_HEADER]: token }));

  // SKUs of active products priced in USD.
  const skus: string[] = [];
  let pageToken = "";
  do {
    const page = await catalogClient.listProducts({ pageSize: 100, pageToken });
    for (const product of page.products) {
      if (product.status !== ProductStatus.ACTIVE) continue;
      for (const variant of product.variants) if (variant.prices.some((p) => p.currencyCode === "USD")) skus.push(variant.sku);
    }
    pageToken = page.nextPageToken;
  } while (pageToken && skus.length < 500);
  console.log(`${skus.length} SKUs to buy from`);

  const address = { recipientName: "Bench Buyer", line1: "1 Load St", city: "Springfield", region: "IL", postalCode: "62701", countryCode: "US" };
  async function guestCart(lines: { sku: string; quantity: number }[]) {
    const created = await carts.createCart({ currencyCode: "USD" });
    for (const line of lines) await cartFor(created.cartToken).addCartItem({ cartId: created.cart!.id, sku: line.sku, quantity: line.quantity });
    return { cartId: created.cart!.id, token: created.cartToken };
  }
  const place = (cart: { cartId: string; token: string }) =>
    ordersFor(cart.token).placeOrder({
      cartId: cart.cartId,
      shippingAddress: address,
      shippingOptionId: "standard",
      paymentMethod: "pm_test_ok",
      email: "bench@example.com",
      idempotencyKey: randomUUID(),
    });

  // A checkout: a new guest cart, one or two lines, PlaceOrder; PlaceOrder's own latency kept apart.
  const rows: string[] = [];
  // What a checkout costs each process: CPU over the whole load (warm-up included) ÷ checkouts completed in it.
  const groups: ProcessGroups = {
    ...Object.fromEntries(services.map((s) => [s, { pids: [pids[s]!] }])),
    "load generator": { pids: [process.pid] },
    PostgreSQL: { comm: "postgres" },
    NATS: { comm: "nats-server" },
    Consul: { comm: "consul" },
  };
  const cpuRows: string[] = [];
  for (const concurrency of concurrencies) {
    const placeLatencies: number[] = [];
    const errorKinds = new Map<string, number>();
    let n = 0;
    let completed = 0;
    const checkout = async () => {
      const i = n++;
      const lines = [{ sku: skus[i % skus.length]!, quantity: 1 }];
      const second = skus[(i * 7 + 3) % skus.length]!;
      if (i % 2 === 0 && second !== lines[0]!.sku) lines.push({ sku: second, quantity: 2 });
      const cart = await guestCart(lines);
      const t0 = performance.now();
      const { order } = await place(cart);
      placeLatencies.push(performance.now() - t0);
      if (order?.status !== OrderStatus.CONFIRMED) throw new Error(`order ${order?.id} is ${order?.status}`);
      completed += 1;
    };
    const cpu = cpuSince(groups);
    const result = await runLoad({
      concurrency,
      durationMs,
      warmupMs: 2_000,
      call: () =>
        checkout().catch((error: unknown) => {
          const message = ConnectError.from(error).message.replace(/[0-9a-f-]{36}/g, "<id>");
          errorKinds.set(message, (errorKinds.get(message) ?? 0) + 1);
          throw error;
        }),
    });
    const perCheckout = Object.entries(cpu()).map(([name, ms]) => [name, ms / Math.max(completed, 1)] as const);
    const total = perCheckout.reduce((sum, [, ms]) => sum + ms, 0);
    console.log(`c=${concurrency}: CPU ms per checkout ${total.toFixed(1)}: ${perCheckout.map(([name, ms]) => `${name} ${ms.toFixed(1)}`).join(", ")}`);
    cpuRows.push(`| ${concurrency} | ${total.toFixed(1)} | ${perCheckout.map(([, ms]) => ms.toFixed(1)).join(" | ")} |`);
    if (errorKinds.size) console.log("errors:", Object.fromEntries(errorKinds));
    const placeOnly = summarize(placeLatencies.slice(Math.floor(placeLatencies.length * 0.15)), 0, durationMs);
    const fmt = (r: LoadResult) => `${r.perSecond.toFixed(1)}/s p50 ${r.p50Ms.toFixed(0)} ms p99 ${r.p99Ms.toFixed(0)} ms`;
    console.log(`c=${concurrency}: checkouts ${fmt(result)} errors ${result.errors}; PlaceOrder p50 ${placeOnly.p50Ms.toFixed(0)} ms p99 ${placeOnly.p99Ms.toFixed(0)} ms`);
    rows.push(
      `| ${concurrency} | ${result.perSecond.toFixed(1)} | ${result.p50Ms.toFixed(0)} | ${result.p99Ms.toFixed(0)} | ${placeOnly.p50Ms.toFixed(0)} | ${placeOnly.p99Ms.toFixed(0)} | ${result.errors} |`,
    );
  }

  if (process.env.BENCH_DUMP_METRICS) {
    // Where a checkout's time goes: mean latency of each call the order service made and served.
    for (const service of ["order", "cart", "payment", "inventory"] as const) {
      const text = await (await fetch(`http://127.0.0.1:${ports[service]}/metrics`)).text();
      const sums = new Map<string, number>();
      for (const match of text.matchAll(/^rpc_(client|server)_request_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$/gm)) {
        const method = /method="([^"]+)"/.exec(match[3]!)?.[1];
        if (method && /code="ok"/.test(match[3]!)) sums.set(`${match[1]} ${method} ${match[2]}`, Number(match[4]));
      }
      for (const [key, sum] of sums) {
        if (!key.endsWith(" sum")) continue;
        const count = sums.get(key.replace(/ sum$/, " count")) ?? 0;
        if (count > 0) console.log(`${service} ${key.replace(/ sum$/, "")}: ${count} calls, mean ${((sum / count) * 1000).toFixed(1)} ms`);
      }
    }
  }

  // The last 50 units of one SKU, 200 buyers at once.
  const hotSku = `BENCH-LAST-${tag.toUpperCase()}`;
  const { category } = await catalogClient.createCategory({ category: { name: "Last units", slug: `last-units-${tag}` } });
  await catalogClient.createProduct({
    product: {
      slug: `last-units-${tag}`,
      name: "Last units",
      categoryId: category!.id,
      status: ProductStatus.ACTIVE,
      variants: [{ sku: hotSku, prices: [{ currencyCode: "USD", amountMinor: 4999n }] }],
    },
  });
  await inventoryAdmin.receiveStock({ sku: hotSku, quantity: 50n });
  const buyers = [];
  for (let i = 0; i < 200; i += 20) buyers.push(...(await Promise.all(Array.from({ length: 20 }, () => guestCart([{ sku: hotSku, quantity: 1 }])))));
  const t0 = performance.now();
  const outcomes = await Promise.allSettled(buyers.map((cart) => place(cart)));
  const lastUnitsMs = performance.now() - t0;
  const confirmed = outcomes.filter((o) => o.status === "fulfilled" && o.value.order?.status === OrderStatus.CONFIRMED).length;
  const refusals = new Map<string, number>();
  for (const o of outcomes) {
    if (o.status !== "rejected") continue;
    const failure = failureOf(o.reason);
    if (failure.code !== Code.FailedPrecondition) continue;
    const reason = failure.reason ?? "no reason";
    refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
  }
  const outOfStock = [...refusals.values()].reduce((a, b) => a + b, 0);
  const reasons = [...refusals].map(([reason, n]) => `${n} ${reason}`).join(", ");
  const other = outcomes.length - confirmed - outOfStock;
  const { stock } = await inventoryAdmin.getStockLevel({ sku: hotSku });
  const count = async (db: string, sql: string) => {
    const client = new pg.Client({ connectionString: `${env.DATABASE_URL!.replace(/\/[^/]*$/, "")}/${dbOf(db)}` });
    await client.connect();
    try {
      return Number(((await client.query(sql)).rows[0] as { n: string }).n);
    } finally {
      await client.end();
    }
  };
  const holding = await count(names.payment, "select count(*) as n from payment where captured - refunded > 0");
  const confirmedOrders = await count(names.order, "select count(*) as n from orders where status = 'CONFIRMED'");
  console.log(
    `last 50 units, 200 buyers: ${confirmed} confirmed, ${outOfStock} refused (failed_precondition: ${reasons}), ${other} other, in ${(lastUnitsMs / 1000).toFixed(2)} s; on hand ${stock!.onHand}, reserved ${stock!.reserved}`,
  );

  const body = [
    "Guest checkouts end to end: each one creates a cart, adds one or two lines (priced from catalog and",
    "inventory) and places the order (PrepareCheckout, order and key rows, ReserveStock, AuthorizePayment,",
    "CapturePayment ∥ CommitReservation, CONFIRMED + OrderPlaced, CompleteCart) with the test gateway.",
    `Catalog, inventory, shipping, promotion, cart, payment and order each run as their own process, bundled as npm start`,
    "runs them (the cart prices shipping through a shipping quote and discounts through promotion's evaluation); the load generator shares",
    `the 2 cores with them, PostgreSQL, NATS and Consul. Closed loop, ${durationMs / 1000} s measured after a 2 s warm-up;`,
    `seeded catalog of ${seeded.products} products. Measuring starts once the order service's new durable consumer has read`,
    "the payment stream's history (left by earlier runs and tests).",
    "",
    "| in flight | checkouts/s | checkout p50 ms | checkout p99 ms | PlaceOrder p50 ms | PlaceOrder p99 ms | errors |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
    "CPU per checkout (ms; each process's user + system time from /proc over the load, warm-up included, ÷ the checkouts",
    "completed in it; PostgreSQL is every postgres process on the machine):",
    "",
    `| in flight | all | ${Object.keys(groups).join(" | ")} |`,
    `|---|---|${Object.keys(groups).map(() => "---|").join("")}`,
    ...cpuRows,
    "",
    `Last units: 200 concurrent PlaceOrder calls for the last 50 units of one SKU → ${confirmed} CONFIRMED,`,
    `${outOfStock} refused with failed_precondition (${reasons}), ${other} other, in ${(lastUnitsMs / 1000).toFixed(2)} s;`,
    `afterwards on hand ${stock!.onHand}, reserved ${stock!.reserved}. Over the whole run ${holding} payments hold money for`,
    `${confirmedOrders} CONFIRMED orders. (OUT_OF_STOCK: the reservation failed; LINE_UNAVAILABLE: the cart saw no stock first.)`,
  ].join("\n");
  console.log(`recorded in ${recordSection(repositoryRoot, "Checkout (bench:checkout)", body)}`);
} finally {
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode === null ? child.once("exit", resolve) : resolve(undefined)))));
  const admin = new pg.Client({ connectionString: env.DATABASE_URL });
  await admin.connect();
  for (const name of Object.values(names)) await admin.query(`drop database if exists "${dbOf(name)}" with (force)`);
  await admin.end();
  await supervisor.stopAll();
}
