// `npm run bench:promotion`: how long promotion takes to evaluate a 20-line cart against 100 active
// promotions. (1) The evaluation engine alone, in this process: p50/p99 per evaluation, evaluations
// per second on one core and CPU time per evaluation. (2) EvaluateCart through a real promotion
// service (gRPC, auth, the candidates read from PostgreSQL): calls per second and latency.
// Prints the figures and records them in BENCHMARKS.md.
import { randomBytes, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createService, loadConfig, type RunningService } from "@bazaar/platform";
import { bearer, createTestSigner, dropServiceDatabase } from "@bazaar/platform/testing";
import { createSupervisor, ensureInfrastructure, repositoryRoot, stackSettings } from "@bazaar/stack";
import { PromotionSchema, PromotionService } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { runLoad } from "../../platform/bench/load.ts";
import { recordSection } from "../../platform/bench/report.ts";
import { evaluate } from "../src/evaluation.ts";
import { engineAction, engineConditions } from "../src/rule-codec.ts";
import type { Candidate, CartInput } from "../src/rules.ts";
import { promotion, promotionConfigSchema } from "../src/index.ts";

const evaluations = Number(process.env.BENCH_EVALUATIONS ?? 20_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 10_000);

const categories = Array.from({ length: 10 }, () => randomUUID());
const skus = Array.from({ length: 20 }, (_, i) => `BENCH-${String(i).padStart(3, "0")}`);

/** 100 promotions of every kind, on a mix of conditions (most apply to the cart, some do not). */
function promotions(): Array<MessageInitShape<typeof PromotionSchema>> {
  return Array.from({ length: 100 }, (_, i) => {
    const category = categories[i % categories.length]!;
    const kinds: Array<MessageInitShape<typeof PromotionSchema>["action"]> = [
      { kind: { case: "orderPercentOff", value: { percentBps: 100 + (i % 9) * 50 } } },
      { kind: { case: "orderAmountOff", value: { amounts: [{ amountMinor: BigInt(100 + i), currencyCode: "USD" }] } } },
      { kind: { case: "itemsOff", value: { items: { categoryIds: [category] }, percentBps: 1500 } } },
      { kind: { case: "itemsOff", value: { items: { skus: [skus[i % 20]!] }, amountsPerUnit: [{ amountMinor: 50n, currencyCode: "USD" }] } } },
      { kind: { case: "freeShipping", value: { shippingOptionIds: i % 2 ? ["standard"] : [] } } },
      { kind: { case: "buyXGetY", value: { buy: { categoryIds: [category] }, buyQuantity: 2, getQuantity: 1, percentBps: 10_000 } } },
    ];
    const conditions: Array<MessageInitShape<typeof PromotionSchema>["conditions"]> = [
      { everything: true },
      { minimumSubtotal: [{ amountMinor: 5_000n + BigInt(i) * 1_000n, currencyCode: "USD" }] },
      { items: { categoryIds: [category] }, minimumQuantity: 2 },
      { currencies: ["USD", "EUR"], signedInOnly: i % 2 === 0 },
      { customerRoles: ["vip"] },
    ];
    return {
      name: `Bench promotion ${i}`,
      automatic: true,
      priority: i % 7,
      conditions: conditions[i % conditions.length],
      action: kinds[i % kinds.length],
    };
  });
}

const cart: CartInput = {
  currency: "USD",
  lines: skus.map((sku, i) => ({ sku, productId: `product-${i}`, categoryIds: [categories[i % categories.length]!], quantity: 1 + (i % 4), unitPrice: BigInt(499 + i * 137) })),
  shipping: { optionId: "standard", price: 599n },
  customer: { id: "bench-user", roles: ["customer"], hasOrdered: false },
  codes: [],
  now: new Date(),
};

// (1) The engine alone.
const specs = promotions().map((p) => create(PromotionSchema, p));
const candidates: Candidate[] = specs.map((p, i) => ({
  rule: {
    id: `00000000-0000-7000-8000-${String(i).padStart(12, "0")}`,
    name: p.name,
    state: "active",
    automatic: true,
    conditions: engineConditions(p.conditions!),
    action: engineAction(p.action!),
    stacking: "combinable",
    priority: p.priority,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
  },
  limitReached: false,
}));
for (let i = 0; i < 2_000; i++) evaluate(cart, candidates); // warm-up
const latencies: number[] = [];
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
let applied = 0;
for (let i = 0; i < evaluations; i++) {
  const t0 = performance.now();
  applied = evaluate(cart, candidates).applied.length;
  latencies.push(performance.now() - t0);
}
const wallMs = performance.now() - wallBefore;
const cpu = process.cpuUsage(cpuBefore);
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
const engine = {
  p50: at(0.5) * 1000,
  p99: at(0.99) * 1000,
  perSecond: evaluations / (wallMs / 1000),
  cpuUs: (cpu.user + cpu.system) / evaluations,
};
console.log(`engine: ${applied} of 100 promotions apply; p50 ${engine.p50.toFixed(1)} µs, p99 ${engine.p99.toFixed(1)} µs, ${engine.perSecond.toFixed(0)}/s, CPU ${engine.cpuUs.toFixed(1)} µs per evaluation`);

// (2) EvaluateCart through a real service.
const settings = stackSettings();
const supervisor = createSupervisor({ write: () => {} });
const infra = await ensureInfrastructure(settings, supervisor);
const env: NodeJS.ProcessEnv = { ...process.env, ...infra.env, BAZAAR_ENV: "development", LOG_LEVEL: "warn" };
const name = `promotion-bench-${randomBytes(3).toString("hex")}`;
const signer = await createTestSigner();
const config = loadConfig(promotionConfigSchema, env);
let service: RunningService | undefined;
try {
  service = await createService(promotion({ config, name, followOrders: false }), { config, verifier: signer.verifier });
  const transport = (token: string) => createGrpcTransport({ baseUrl: `http://${service!.address}`, interceptors: [bearer(token)] });
  const admin = createClient(PromotionService, transport(await signer.token({ subject: "bench-admin", roles: ["admin"] })));
  const cartService = createClient(PromotionService, transport(await signer.token({ subject: "cart", service: true })));
  for (const spec of specs) await admin.createPromotion({ promotion: spec });
  const request = {
    currencyCode: "USD",
    lines: cart.lines.map((l) => ({ ...l, categoryIds: [...l.categoryIds] })),
    shippingOptionId: "standard",
    shippingPrice: 599n,
    customerId: "bench-user",
    customerRoles: ["customer"],
  };
  const check = await cartService.evaluateCart(request);
  if (check.applied.length !== applied) throw new Error(`the service applied ${check.applied.length} promotions, the engine ${applied}`);
  const rpc = await runLoad({ call: () => cartService.evaluateCart(request), concurrency, durationMs });
  console.log(`EvaluateCart: ${rpc.perSecond.toFixed(0)}/s, p50 ${rpc.p50Ms.toFixed(2)} ms, p99 ${rpc.p99Ms.toFixed(2)} ms, ${rpc.errors} errors`);

  const body = [
    `A cart of 20 lines (1–4 units each, 10 categories) against 100 active automatic promotions of every action`,
    `(order %/amount, items %/amount, free shipping, buy 2 get 1) under mixed conditions (minimums, categories`,
    `with quantities, currencies, signed-in, roles); ${applied} of them apply. The engine alone: ${evaluations.toLocaleString("en-US")}`,
    `evaluations in one process after 2,000 warm-up ones. EvaluateCart: gRPC with a service token from the same`,
    `process, the candidates read from PostgreSQL per call; closed loop, ${concurrency} in flight, ${durationMs / 1000} s after a 2 s warm-up.`,
    "",
    "| what | evaluations/s | p50 | p99 | CPU per evaluation | errors |",
    "|---|---|---|---|---|---|",
    `| evaluation engine (pure, one core) | ${engine.perSecond.toFixed(0)} | ${engine.p50.toFixed(1)} µs | ${engine.p99.toFixed(1)} µs | ${engine.cpuUs.toFixed(1)} µs | 0 |`,
    `| EvaluateCart RPC (service + PostgreSQL) | ${rpc.perSecond.toFixed(0)} | ${rpc.p50Ms.toFixed(2)} ms | ${rpc.p99Ms.toFixed(2)} ms | — | ${rpc.errors} |`,
    "",
    `Aim: under 1 ms of CPU per evaluation — the engine takes ${(engine.cpuUs / 1000).toFixed(3)} ms.`,
  ].join("\n");
  console.log(`recorded in ${recordSection(repositoryRoot, "Promotion evaluation (bench:promotion)", body)}`);
} finally {
  await service?.stop();
  await dropServiceDatabase(name, env);
  await supervisor.stopAll();
}
