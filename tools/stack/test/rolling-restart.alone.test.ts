// Two instances of every service and of the edge, started by the stack's own code (as
// `npm start -- --instances 2`), and a rolling restart of every process — SIGTERM one, wait until its
// replacement passes, next — while guest checkouts run through the edges at about 10 per second:
// fewer than 0.1% of the requests may fail. Heavy: one pass.
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import {
  createSupervisor,
  discoverServices,
  ensureConsul,
  freePort,
  infrastructureEnv,
  passingCount,
  repositoryRoot,
  stackSettings,
  startMesh,
  waitFor,
} from "../src/index.ts";

const tag = randomBytes(4).toString("hex");
const I = "bazaar.identity.v1.IdentityService";
const C = "bazaar.catalog.v1.CatalogService";
const V = "bazaar.inventory.v1.InventoryService";
const K = "bazaar.cart.v1.CartService";
const O = "bazaar.order.v1.OrderService";
const shipTo = { recipientName: "Ada Lovelace", line1: "1 Main Street", city: "Springfield", region: "IL", postalCode: "62701", countryCode: "US" };

async function post(base: string, method: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

test("a rolling restart of two instances of everything at ~10 guest checkouts/s loses fewer than 0.1% of requests", async (t) => {
  t.timeout(12 * 60_000);
  // A Consul of its own: the real service names ("catalog", "edge"…) must not meet anyone else's.
  const stateDir = mkdtempSync(path.join(tmpdir(), "bazaar-rolling-"));
  chmodSync(stateDir, 0o755);
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const lines: string[] = [];
  const supervisor = createSupervisor({ write: (line) => lines.push(line), colour: false });
  t.teardown(() => supervisor.stopAll());
  const settings = { ...stackSettings(), stateDir, consulAddr: `127.0.0.1:${await freePort()}` };
  await ensureConsul(settings, supervisor);

  const edgePorts = [await freePort(), await freePort()];
  const adminEmail = `admin-${tag}@rolling.test`;
  const instances = await startMesh(discoverServices(repositoryRoot), {
    supervisor,
    consulAddr: settings.consulAddr,
    env: {
      ...infrastructureEnv(settings),
      BAZAAR_ENV: "development",
      LOG_LEVEL: "warn",
      EVENTS_NEW_CONSUMER_START: "new",
      IDENTITY_ADMIN_EMAIL: adminEmail,
      EDGE_RATE_LIMITS_KEY: `bazaar/test/rolling-${tag}`,
      SHUTDOWN_GRACE_MS: "10000",
    },
    instances: 2,
    instanceEnv: (service, n): Record<string, string> => (service.name === "edge" ? { EDGE_PORT: String(edgePorts[n - 1]) } : {}),
    restart: { initialDelayMs: 500 },
    healthyTimeoutMs: 180_000,
  });
  t.true(instances.every((i) => /^[a-z]+-[12]$/.test(i.id)), instances.map((i) => i.id).join(" "));

  // Staff set up one product with plenty of stock, through the first edge.
  const edge1 = `http://127.0.0.1:${edgePorts[0]}`;
  const password = `Adm1n-${tag}-pw`;
  await post(edge1, `${I}/Register`, { email: adminEmail, password, displayName: "Staff" });
  const login = await post(edge1, `${I}/Login`, { email: adminEmail, password });
  const admin = { authorization: `Bearer ${login.body.tokens.accessToken}` };
  const category = await post(edge1, `${C}/CreateCategory`, { category: { name: "Rolling", slug: `rolling-${tag}` } }, admin);
  t.is(category.status, 200, JSON.stringify(category.body));
  const sku = `ROLL-${tag.toUpperCase()}`;
  const product = await post(
    edge1,
    `${C}/CreateProduct`,
    {
      product: {
        slug: `rolling-${tag}`,
        name: `Rolling Pin ${tag}`,
        categoryId: category.body.category.id,
        status: "PRODUCT_STATUS_ACTIVE",
        variants: [{ sku, prices: [{ currencyCode: "USD", amountMinor: "999" }] }],
      },
    },
    admin,
  );
  t.is(product.status, 200, JSON.stringify(product.body));
  const stocked = await post(edge1, `${V}/ReceiveStock`, { sku, quantity: "100000", note: "rolling restart" }, admin);
  t.is(stocked.status, 200, JSON.stringify(stocked.body));

  // Callers find the edges as a load balancer would: the passing ones in Consul, refreshed often.
  let edges = edgePorts.map((port) => `http://127.0.0.1:${port}`);
  let running = true;
  const discovery = (async () => {
    while (running) {
      try {
        const response = await fetch(`http://${settings.consulAddr}/v1/health/service/edge?passing=true`);
        const found = ((await response.json()) as Array<{ Service: { Address: string; Port: number } }>).map((e) => `http://${e.Service.Address}:${e.Service.Port}`);
        if (found.length > 0) edges = found;
      } catch {
        // keep the last list
      }
      await sleep(200); // a discovery refresh interval
    }
  })();
  let next = 0;
  const requests = { total: 0, failed: [] as string[] };
  const call = async (method: string, body: unknown, headers?: Record<string, string>) => {
    const base = edges[next++ % edges.length]!;
    requests.total += 1;
    try {
      const answer = await post(base, method, body, headers);
      if (answer.status !== 200) requests.failed.push(`${method} via ${base}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.status === 200 ? answer.body : undefined;
    } catch (error) {
      requests.failed.push(`${method} via ${base}: ${(error as Error).message}`);
      return undefined;
    }
  };
  let checkouts = 0;
  const checkout = async () => {
    const cart = await call(`${K}/CreateCart`, { currencyCode: "USD" });
    if (!cart) return;
    const asGuest = { "x-cart-token": cart.cartToken as string };
    if (!(await call(`${K}/AddCartItem`, { cartId: cart.cart.id, sku, quantity: 1 }, asGuest))) return;
    const placed = await call(
      `${O}/PlaceOrder`,
      { cartId: cart.cart.id, shippingAddress: shipTo, shippingOptionId: "standard", paymentMethod: "pm_test_ok", email: `guest-${tag}@example.com`, idempotencyKey: `${tag}-${checkouts}` },
      asGuest,
    );
    if (placed) checkouts += 1;
  };
  // Open loop at ~10 checkouts/s (a start every 100 ms whatever the answers' latency).
  const inFlight = new Set<Promise<void>>();
  const load = (async () => {
    while (running) {
      const one = checkout().finally(() => inFlight.delete(one));
      inFlight.add(one);
      await sleep(100);
    }
    await Promise.all(inFlight);
  })();

  // The rolling restart: every process in turn, the edges last (as a deployment would roll them).
  const order = [...instances.filter((i) => i.service.name !== "edge"), ...instances.filter((i) => i.service.name === "edge")];
  for (const instance of order) {
    const restarts = instance.process.restarts;
    process.kill(instance.process.pid, "SIGTERM");
    await waitFor(async () => instance.process.restarts > restarts && (await passingCount(settings.consulAddr, instance.service.name)) >= 2, {
      what: `the replacement of ${instance.id} to pass in Consul`,
      timeoutMs: 90_000,
      intervalMs: 200,
    });
    await sleep(2000); // one process every few seconds, as a rollout paces itself
  }
  running = false;
  await Promise.all([load, discovery]);

  const rate = requests.failed.length / requests.total;
  t.log(`${requests.total} requests, ${checkouts} checkouts confirmed, ${requests.failed.length} failed (${(rate * 100).toFixed(3)}%)`);
  if (rate >= 0.001) {
    // What the services logged as errors (LOG_LEVEL=warn): where the failures came from.
    for (const line of lines.filter((l) => /"level":"(error|fatal)"/.test(l)).slice(0, 40)) t.log(line.slice(0, 600));
  }
  t.true(checkouts > 100, `checkouts ran during the whole restart (${checkouts})`);
  t.true(rate < 0.001, requests.failed.slice(0, 20).join("\n"));
});
