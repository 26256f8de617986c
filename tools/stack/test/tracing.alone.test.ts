// The local stack's tracing, end to end: every service and the edge as `npm start` runs them (a Consul and
// a NATS of their own, so the real service and consumer names meet no one else's), sending spans to a
// private Jaeger. A guest checkout through the edge is one trace, found through Jaeger's query API, and so
// is a server-rendered page with its data calls; with Jaeger stopped, checkouts still go through.
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import {
  createSupervisor,
  discoverServices,
  ensureConsul,
  ensureNats,
  freePort,
  infrastructureEnv,
  isListening,
  repositoryRoot,
  stackSettings,
  startMesh,
  startPrivateJaeger,
  waitFor,
  type TraceStore,
} from "../src/index.ts";
import { C, K, O, post, shipTo, stockedProduct } from "./fixtures/edge-shop.ts";

const tag = randomBytes(4).toString("hex");

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  processID: string;
  tags: { key: string; value: unknown }[];
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

let edge = "";
let sku = "";
let jaeger!: TraceStore & { process: { stop(): Promise<void> } };
const stateDir = mkdtempSync(path.join(tmpdir(), "bazaar-tracing-"));
chmodSync(stateDir, 0o755);
const supervisor = createSupervisor({ write: () => undefined, colour: false });
test.after.always(async () => {
  await supervisor.stopAll();
  rmSync(stateDir, { recursive: true, force: true });
});

test.before(async (t) => {
  t.timeout(8 * 60_000);
  const settings = { ...stackSettings(), stateDir, consulAddr: `127.0.0.1:${await freePort()}`, natsUrl: `nats://127.0.0.1:${await freePort()}` };
  const [, nats] = await Promise.all([ensureConsul(settings, supervisor), ensureNats(settings, supervisor)]);
  jaeger = await startPrivateJaeger(settings, supervisor, path.join(stateDir, "jaeger"));

  const edgePort = await freePort();
  await startMesh(discoverServices(repositoryRoot), {
    supervisor,
    consulAddr: settings.consulAddr,
    env: { ...infrastructureEnv(settings), NATS_URL: nats.adminUrl, ...jaeger.env, BAZAAR_ENV: "development", LOG_LEVEL: "warn", EDGE_RATE_LIMITS_KEY: `bazaar/test/tracing-${tag}` },
    instances: 1,
    instanceEnv: (service): Record<string, string> => (service.name === "edge" ? { EDGE_PORT: String(edgePort) } : {}),
    healthyTimeoutMs: 180_000,
  });
  edge = `http://127.0.0.1:${edgePort}`;

  sku = await stockedProduct(edge, settings.databaseUrl, { tag, slug: "traced", name: "Traced Lamp", priceMinor: "2500", quantity: "1000" });
});

/** A guest checkout through the edge; PlaceOrder sent with `traceparent` when given. Returns PlaceOrder's answer. */
async function checkout(n: string, traceparent?: string) {
  const cart = await post(edge, `${K}/CreateCart`, { currencyCode: "USD" });
  const asGuest = { "x-cart-token": cart.body.cartToken as string };
  const added = await post(edge, `${K}/AddCartItem`, { cartId: cart.body.cart.id, sku, quantity: 1 }, asGuest);
  if (added.status !== 200) throw new Error(`AddCartItem: ${JSON.stringify(added.body)}`);
  return post(
    edge,
    `${O}/PlaceOrder`,
    { cartId: cart.body.cart.id, shippingAddress: shipTo, shippingOptionId: "standard", paymentMethod: "pm_test_ok", email: `guest-${tag}@example.com`, idempotencyKey: `${tag}-${n}` },
    { ...asGuest, ...(traceparent ? { traceparent } : {}) },
  );
}

const kindOf = (span: JaegerSpan) => span.tags.find((tag) => tag.key === "span.kind")?.value;

test.serial("a guest checkout through the edge is one trace in Jaeger: edge, order, cart, inventory, payment, the outbox relay's send and OrderPlaced's consumers", async (t) => {
  t.timeout(3 * 60_000);
  // The caller's own trace context: the edge continues it.
  const traceId = randomBytes(16).toString("hex");
  const callerSpan = randomBytes(8).toString("hex");
  const placed = await checkout("traced", `00-${traceId}-${callerSpan}-01`);
  t.is(placed.status, 200, JSON.stringify(placed.body));
  t.is(placed.traceId, traceId, "the edge names the caller's trace in x-trace-id (and its access log)");

  // Spans arrive in batches (every few seconds from each process), the consumers' a moment after the
  // order: wait for every service's, the relay's send and a consumer of it.
  const expected = ["edge", "order", "cart", "inventory", "payment"];
  let found!: JaegerTrace[];
  let seen = "nothing";
  await waitFor(
    async () => {
      const response = await fetch(`${jaeger.queryUrl}api/traces/${traceId}`);
      if (!response.ok) return false;
      found = ((await response.json()) as { data: JaegerTrace[] }).data;
      const spans = found.flatMap((trace) => trace.spans);
      const services = new Set(spans.map((span) => found[0]!.processes[span.processID]?.serviceName));
      seen = `${spans.length} spans from ${[...services].join(", ")}; kinds ${[...new Set(spans.map(kindOf))].join(", ")}`;
      return spans.some((s) => kindOf(s) === "producer") && spans.some((s) => kindOf(s) === "consumer") && expected.every((name) => services.has(name));
    },
    { what: `trace ${traceId} with spans from ${expected.join(", ")}, the relay's send and a consumer in Jaeger`, timeoutMs: 90_000, intervalMs: 1000 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last seen: ${seen}`);
  });
  t.is(found.length, 1, "one trace");
  const trace = found[0]!;
  const serviceOf = (span: JaegerSpan) => trace.processes[span.processID]!.serviceName;
  const services = new Set(trace.spans.map(serviceOf));
  t.log(`${trace.spans.length} spans from ${[...services].sort().join(", ")}`);
  for (const service of expected) t.true(services.has(service), `spans from ${service}`);

  // One tree: the edge's SERVER span is the only span whose parent is outside the trace, and that parent is the caller's.
  const ids = new Set(trace.spans.map((span) => span.spanID));
  const parentOf = (span: JaegerSpan) => span.references.find((ref) => ref.refType === "CHILD_OF")?.spanID;
  const roots = trace.spans.filter((span) => !ids.has(parentOf(span) ?? ""));
  t.deepEqual(
    roots.map((span) => [serviceOf(span), span.operationName, kindOf(span), parentOf(span)]),
    [["edge", `${O}/PlaceOrder`, "server", callerSpan]],
  );
  // RPC conventions: the order service's span is the child of the edge's CLIENT span of the same method.
  const orderServer = trace.spans.find((span) => serviceOf(span) === "order" && span.operationName === `${O}/PlaceOrder`)!;
  const edgeClient = trace.spans.find((span) => span.spanID === parentOf(orderServer))!;
  t.deepEqual([serviceOf(edgeClient), kindOf(edgeClient), kindOf(orderServer)], ["edge", "client", "server"]);
  t.like(Object.fromEntries(orderServer.tags.map((tag) => [tag.key, tag.value])), { "rpc.method": `${O}/PlaceOrder`, "rpc.status_code": "OK", "rpc.system.name": "grpc" });

  // Messaging conventions: the relay's PRODUCER span sends OrderPlaced; consumers in other services process it as its children.
  const send = trace.spans.find((span) => kindOf(span) === "producer" && span.operationName === "send bazaar.order.order_placed");
  t.truthy(send, trace.spans.map((span) => span.operationName).join(", "));
  const consumers = trace.spans.filter((span) => kindOf(span) === "consumer" && parentOf(span) === send!.spanID);
  t.true(consumers.length > 0, "OrderPlaced's consumers joined the trace");
  for (const consumer of consumers) {
    t.is(consumer.operationName, "process bazaar.order.order_placed");
    t.like(Object.fromEntries(consumer.tags.map((tag) => [tag.key, tag.value])), { "messaging.system": "nats", "messaging.operation.type": "process" });
  }
  t.log(`OrderPlaced consumed in this trace by ${consumers.map(serviceOf).join(", ")}`);
  t.true(services.size >= 5);
});

test.serial("a server-rendered product page and the catalog calls it makes are one trace", async (t) => {
  t.timeout(3 * 60_000);
  const traceId = randomBytes(16).toString("hex");
  const callerSpan = randomBytes(8).toString("hex");
  const page = await fetch(`${edge}/p/traced-${tag}`, { headers: { traceparent: `00-${traceId}-${callerSpan}-01` }, signal: AbortSignal.timeout(30_000) });
  t.is(page.status, 200);
  t.regex(await page.text(), new RegExp(`Traced Lamp ${tag}`));
  let trace!: JaegerTrace;
  await waitFor(
    async () => {
      const response = await fetch(`${jaeger.queryUrl}api/traces/${traceId}`);
      if (!response.ok) return false;
      const [found] = ((await response.json()) as { data: JaegerTrace[] }).data;
      if (!found) return false;
      trace = found;
      return trace.spans.some((span) => trace.processes[span.processID]?.serviceName === "catalog" && span.operationName === `${C}/GetProduct`);
    },
    { what: `trace ${traceId} with catalog's GetProduct in Jaeger`, timeoutMs: 90_000, intervalMs: 1000 },
  );
  // One tree under the page's SERVER span: the page's own calls to the edge's API are its children.
  const ids = new Set(trace.spans.map((span) => span.spanID));
  const parentOf = (span: JaegerSpan) => span.references.find((ref) => ref.refType === "CHILD_OF")?.spanID;
  const roots = trace.spans.filter((span) => !ids.has(parentOf(span) ?? ""));
  t.deepEqual(
    roots.map((span) => [trace.processes[span.processID]!.serviceName, kindOf(span), parentOf(span)]),
    [["edge", "server", callerSpan]],
  );
  t.log(`${trace.spans.length} spans: ${trace.spans.map((span) => `${trace.processes[span.processID]!.serviceName} ${span.operationName}`).join(", ")}`);
});

test.serial("with Jaeger stopped, checkouts through the edge still succeed", async (t) => {
  t.timeout(3 * 60_000);
  const otlp = new URL(jaeger.address);
  await jaeger.process.stop();
  t.false(await isListening(otlp.hostname, Number(otlp.port)), "nothing receives spans any more");
  for (const n of ["dark-1", "dark-2", "dark-3"]) {
    const placed = await checkout(n);
    t.is(placed.status, 200, JSON.stringify(placed.body));
    t.regex(String(placed.body.order?.id ?? ""), /^[0-9a-f-]{36}$/);
  }
});
