// One short real run: a private mesh (every service the journeys reach, in-process) behind a real
// edge, one stocked product, and `runLoad` driving every journey — guest checkouts included —
// through the edge over Connect JSON for a few seconds at a low rate.
import test from "ava";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { promisify } from "node:util";
import { tmpdir } from "node:os";
import path from "node:path";
import { createBazaarClient } from "@bazaar/client";
import { ProductStatus } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { startMesh, unique, type Mesh } from "../../../edge/test/helpers.ts";
import { parseOptions, type LoadOptions } from "../src/options.ts";
import { writeResult } from "../src/output.ts";
import { resultOf, type LoadResult } from "../src/report.ts";
import { runLoad } from "../src/run.ts";

let mesh: Mesh | undefined;
let url = "";

test.before(async () => {
  mesh = await startMesh();
  ({ url } = await mesh.edge());
  const password = `Adm1n-${unique("pw")}`;
  const admin = createBazaarClient({ baseUrl: url, useHttpGet: false });
  await admin.identity.register({ email: mesh.adminEmail, password, displayName: "Staff" });
  await mesh.bootstrapAdmin();
  await admin.signIn(mesh.adminEmail, password);
  const tag = unique("t").slice(2);
  const { category } = await admin.catalog.createCategory({ category: { name: "Tools", slug: `tools-${tag}` } });
  const sku = `SAW-${tag.toUpperCase()}`;
  await admin.catalog.createProduct({
    product: { slug: `hand-saw-${tag}`, name: `Hand Saw ${tag}`, categoryId: category!.id, status: ProductStatus.ACTIVE, variants: [{ sku, prices: [{ currencyCode: "USD", amountMinor: 2499n }] }] },
  });
  await admin.inventory.receiveStock({ sku, quantity: 1000n, note: "load test stock" });
});

test.after.always(async () => {
  await mesh?.stop();
});

test.serial("a short open-loop run through a real edge completes every journey, guest checkouts included, and writes its result and chart", async (t) => {
  const out = path.join(mkdtempSync(path.join(tmpdir(), "bazaar-load-")), "run.json");
  t.teardown(() => rmSync(path.dirname(out), { recursive: true, force: true }));
  // Every journey weighted enough to be drawn in a few seconds; checkout often, so orders are placed.
  const options = parseOptions(["--url", url, "--rate", "6", "--ramp", "1", "--duration", "4", "--weights", "browse=2,search=1,product=2,addToCart=2,viewCart=1,checkout=2", "--out", out, "--seed", "7"]) as LoadOptions;
  // What went on the wire: method, path and content type of every request.
  const sent = new Set<string>();
  const outcome = await runLoad(options, {
    fetch: (input, init) => {
      const request = new Request(input, init);
      sent.add(`${request.method} ${new URL(request.url).pathname.split("/").pop()} ${request.headers.get("content-type") ?? ""}`);
      return fetch(input, init);
    },
  });
  const result: LoadResult = resultOf(options, outcome);
  const failures = Object.entries(result.steps).filter(([, s]) => s.errors > 0).map(([name, s]) => `${name}: ${JSON.stringify(s.errorCodes)}`);
  t.deepEqual(failures, [], "no step failed");
  t.is(result.stoppedBy, "duration");
  t.true(result.totals.journeys >= 8, `journeys: ${result.totals.journeys}`);
  t.true(result.totals.journeys <= 30, "an open loop starts about rate × time journeys, not more");
  for (const journey of ["browse", "search", "product", "addToCart", "viewCart", "checkout"]) t.true((result.steps[journey]?.count ?? 0) > 0, `${journey} ran`);
  t.true(result.steps["checkout PlaceOrder"]!.count > 0, "guest orders were placed");
  t.true(result.steps["browse ListProducts"]!.latencyMs.p50 > 0);
  t.is(result.catalog.products, 1, "the catalog was found through the API");
  // Connect JSON as the storefront sends it: side-effect-free reads as Connect GET, the rest as JSON POSTs.
  for (const read of ["ListProducts", "GetCategory", "SearchProducts", "GetProduct", "ListReviews", "ListShippingOptions"]) t.true(sent.has(`GET ${read} `), `${read} as GET: ${[...sent].join("; ")}`);
  for (const write of ["CreateCart", "AddCartItem", "SetCartShipping", "PlaceOrder"]) t.true(sent.has(`POST ${write} application/json`), `${write} as a JSON POST`);

  const written = writeResult(result, out);
  t.deepEqual(JSON.parse(readFileSync(written.json, "utf8")).totals, result.totals);
  t.true(existsSync(written.chart));
  t.regex(readFileSync(written.chart, "utf8"), /<svg[^]*Journey latency over time[^]*Throughput/);
});

test.serial("a closed loop of 2 shoppers and a max-requests bound stops at that many journeys", async (t) => {
  const options = parseOptions(["--url", url, "--users", "2", "--duration", "20", "--max-requests", "12", "--weights", "browse=1,product=1,viewCart=1"]) as LoadOptions;
  const result = resultOf(options, await runLoad(options));
  t.is(result.stoppedBy, "max-requests");
  t.is(result.totals.journeys, 12, "each of 12 started journeys ended; none more");
  t.is(result.totals.errors, 0, JSON.stringify(result.steps));
  t.true(result.elapsedSeconds < 20);
});

test.serial("--find-knee steps the rate and reports the last step that held (a generous bound, so every step holds)", async (t) => {
  const options = parseOptions(["--url", url, "--find-knee", "--start-rate", "2", "--step-rate", "2", "--step", "1", "--max-rate", "4", "--p95", "60000", "--duration", "30", "--weights", "browse=1,search=1"]) as LoadOptions;
  const result = resultOf(options, await runLoad(options));
  t.is(result.knee?.ended, "max-rate");
  t.deepEqual(result.knee?.stages.map((s) => [s.rate, s.held]), [
    [2, true],
    [4, true],
  ]);
  t.is(result.knee?.kneeRate, 4);
  t.is(result.stoppedBy, "knee");
});

test.serial("--find-knee stops at the first step whose p95 exceeds the bound and reports the one before (none here)", async (t) => {
  // A p95 bound of 1 ms no write through the edge (CreateCart, AddCartItem: a transaction each) meets: the first step fails, so there is no knee.
  const options = parseOptions(["--url", url, "--find-knee", "--start-rate", "3", "--step-rate", "3", "--step", "1", "--max-rate", "30", "--p95", "1", "--duration", "30", "--weights", "addToCart=1"]) as LoadOptions;
  const result = resultOf(options, await runLoad(options));
  t.is(result.knee?.ended, "p95");
  t.is(result.knee?.stages.length, 1);
  t.is(result.knee?.kneeRate, null);
});

test.serial("`npm run load`'s entry point runs from the command line, prints the per-step table and names its result and chart", async (t) => {
  const out = path.join(mkdtempSync(path.join(tmpdir(), "bazaar-load-cli-")), "cli.json");
  t.teardown(() => rmSync(path.dirname(out), { recursive: true, force: true }));
  const main = path.join(import.meta.dirname, "..", "src", "main.ts");
  const { stdout } = await promisify(execFile)(process.execPath, ["--import=tsx", main, "--url", url, "--rate", "4", "--ramp", "0", "--duration", "2", "--out", out, "--no-progress"], { timeout: 60_000 });
  t.log(stdout);
  t.regex(stdout, /^step\s+count\s+errors\s+p50 ms\s+p90 ms\s+p95 ms\s+p99 ms\s+max ms$/m);
  t.regex(stdout, /journeys in \d+\.\d s .* 0 failed, 0 dropped/);
  t.regex(stdout, new RegExp(`result: ${out}\nchart: {2}${out.replace(/\.json$/, ".html")}`));
  t.is(JSON.parse(readFileSync(out, "utf8")).tool, "bazaar-load");
});
