// `npm run bench:catalog`: category listing and search (with facets) over the seeded demo catalog
// (1,200 products, seeded into a bench database of its own), 20-item pages, through a catalog
// process over gRPC. Concurrency 1 shows the service time of one request; concurrency 16 the
// throughput. Prints the figures and records them in BENCHMARKS.md.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createSupervisor, ensureInfrastructure, repositoryRoot, stackSettings } from "@bazaar/stack";
import { createDatabase, createLogger } from "@bazaar/platform";
import { CatalogService, ProductSort } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { runLoad, type LoadResult } from "../../platform/bench/load.ts";
import { recordSection } from "../../platform/bench/report.ts";
import { catalogEntities, catalogMigrations, seedCatalog } from "../src/index.ts";

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 8_000);
const products = Number(process.env.BENCH_PRODUCTS ?? 1200);
const name = "bench-catalog";

const settings = stackSettings();
const supervisor = createSupervisor({ write: () => {} });
const infra = await ensureInfrastructure(settings, supervisor);
const env: NodeJS.ProcessEnv = { ...process.env, ...infra.env, BAZAAR_ENV: "development", LOG_LEVEL: "warn", CATALOG_BENCH_NAME: name };
let child: ChildProcess | undefined;

try {
  const logger = createLogger({ service: "bench", level: "warn" });
  const database = await createDatabase({ url: env.DATABASE_URL!, dbName: `bazaar_${name.replaceAll("-", "_")}`, entities: catalogEntities, migrations: catalogMigrations, logger });
  const seeded = await seedCatalog(database, { products });
  await database.close();
  process.stdout.write(`catalog: ${seeded.products} products in ${seeded.categories} categories (${seeded.created} newly seeded)\n`);

  child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./catalog-server.ts", import.meta.url))], { env, stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child!.once("exit", (code) => reject(new Error(`catalog-server exited with ${code}`)));
    createInterface({ input: child!.stdout! }).on("line", (line) => {
      const match = /^port (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
  });
  const client = createClient(CatalogService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));

  const categories = (await client.listCategories({ recursive: true })).categories;
  const sorts = [ProductSort.RELEVANCE, ProductSort.PRICE_ASC, ProductSort.NEWEST, ProductSort.RATING];
  const queries = ["headphones", "hedphones", "wireless", "jacket", "linen", "cast iron pan", "yoga mat", "tent", "novel", "sneakers", "lamp", "serum", "board game", "laptop 16GB", "wirless speaker", "boots"];
  // A second page for some listings: page tokens gathered up front.
  const tokens: { categoryId: string; sort: ProductSort; token: string }[] = [];
  for (const category of categories) {
    for (const sort of sorts) {
      const page = await client.listProducts({ filter: { categoryId: category.id }, sort, pageSize: 20 });
      if (page.nextPageToken) tokens.push({ categoryId: category.id, sort, token: page.nextPageToken });
    }
  }
  let i = 0;
  const listCall = () => {
    i++;
    if (i % 4 === 0 && tokens.length > 0) {
      const t = tokens[i % tokens.length]!;
      return client.listProducts({ filter: { categoryId: t.categoryId }, sort: t.sort, pageSize: 20, pageToken: t.token });
    }
    return client.listProducts({ filter: { categoryId: categories[i % categories.length]!.id }, sort: sorts[i % sorts.length]!, pageSize: 20 });
  };
  let j = 0;
  const searchCall = () => {
    j++;
    return client.searchProducts({ query: queries[j % queries.length]!, pageSize: 20 });
  };

  const fmt = (r: LoadResult) => `${r.perSecond.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  errors ${r.errors}`;
  const rows: string[] = [];
  for (const [label, call] of [
    ["category listing", listCall],
    ["search + facets", searchCall],
  ] as const) {
    for (const concurrency of [1, 16]) {
      const result = await runLoad({ call, concurrency, durationMs, warmupMs: 2_000 });
      process.stdout.write(`${label.padEnd(17)} c=${String(concurrency).padEnd(3)} ${fmt(result)}\n`);
      rows.push(`| ${label} | ${concurrency} | ${result.perSecond.toFixed(0)} | ${result.p50Ms.toFixed(2)} | ${result.p99Ms.toFixed(2)} | ${result.errors} |`);
    }
  }
  const body = [
    `${seeded.products} seeded products in ${seeded.categories} categories (\`seedCatalog\`), 20-item pages, gRPC to one catalog process on the same machine,`,
    `closed loop for ${durationMs / 1000} s after a 2 s warm-up. Listings rotate over every category (descendants included) and four sorts,`,
    "a quarter of them second pages (keyset tokens); searches rotate over 16 queries (some with typos) and include facet counts.",
    "At concurrency 1 the latency is the service time of one request (plus one loopback round trip).",
    "",
    "| workload | concurrency | req/s | p50 ms | p99 ms | errors |",
    "|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
  process.stdout.write(`recorded in ${recordSection(repositoryRoot, "Catalog (bench:catalog)", body)}\n`);
} finally {
  child?.kill("SIGTERM");
  await supervisor.stopAll();
}
