// Bad input, authorisation, bulk import, Connect JSON over HTTP GET, and the in-stock flag following
// inventory's events — through a real server on the real PostgreSQL, NATS and Consul.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import test from "ava";
import { connect } from "nats";
import { ImportFormat, type ProductSort } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { BackInStockSchema, OutOfStockSchema } from "@bazaar/contracts/bazaar/inventory/v1/events_pb";
import { uuidv7 } from "uuidv7";
import { natsServers, subjectFor } from "@bazaar/platform";
import { category, product } from "./fixtures.ts";
import { env, eventually, startCatalog } from "./helpers.ts";

const violationsOf = (error: unknown) => {
  const e = ConnectError.from(error);
  return { code: e.code, message: e.rawMessage };
};

test("bad input gets invalid_argument naming the offending field, and changes nothing", async (t) => {
  const { admin, anonymous, user } = await startCatalog(t);
  const tools = await category(admin, "Tools");
  const hammer = await product(admin, { name: "Hammer", category: tools });
  const base = {
    slug: "saw",
    name: "Saw",
    categoryId: tools.id,
    variants: [{ sku: "SAW-1", prices: [{ currencyCode: "USD", amountMinor: 1500n }] }],
  };
  const cases: [string, object, RegExp][] = [
    ["price without currency", { ...base, variants: [{ sku: "SAW-1", prices: [{ amountMinor: 1500n }] }] }, /product\.variants\[0\]\.prices\[0\]\.currency_code: is required/],
    ["zero price", { ...base, variants: [{ sku: "SAW-1", prices: [{ currencyCode: "USD", amountMinor: 0n }] }] }, /amount_minor: must be between 1/],
    ["negative price", { ...base, variants: [{ sku: "SAW-1", prices: [{ currencyCode: "USD", amountMinor: -5n }] }] }, /amount_minor/],
    ["huge price", { ...base, variants: [{ sku: "SAW-1", prices: [{ currencyCode: "USD", amountMinor: 10n ** 15n }] }] }, /amount_minor/],
    ["http image", { ...base, imageUrls: ["http://images.example.com/saw.jpg"] }, /product\.image_urls\[0\]: must be an https URL/],
    ["bad slug", { ...base, slug: "Saw Blade!" }, /product\.slug/],
    ["no variants", { ...base, variants: [] }, /product\.variants: must have at least one variant/],
    ["bad sku", { ...base, variants: [{ sku: "saw one", prices: [{ currencyCode: "USD", amountMinor: 1n }] }] }, /product\.variants\[0\]\.sku/],
    ["long name", { ...base, name: "x".repeat(201) }, /product\.name: must be at most 200/],
    ["missing category", { ...base, categoryId: "" }, /product\.category_id: is required/],
  ];
  for (const [what, productInput, expected] of cases) {
    const failure = violationsOf(await t.throwsAsync(admin.createProduct({ product: productInput })));
    t.is(failure.code, Code.InvalidArgument, what);
    t.regex(failure.message, expected, what);
  }
  const listing = async () => (await anonymous.listProducts({ filter: { categoryId: tools.id } })).products.map((p) => p.id);
  t.deepEqual(await listing(), [hammer.id], "nothing was created");

  const reads: [string, Promise<unknown>, RegExp][] = [
    ["page size over the cap", anonymous.listProducts({ pageSize: 101 }), /page_size/],
    ["negative page size", anonymous.listProducts({ pageSize: -1 }), /page_size/],
    ["forged token", anonymous.listProducts({ pageToken: "bm9wZQ" }), /page_token/],
    ["bad currency", anonymous.listProducts({ filter: { currencyCode: "usd" } }), /filter\.currency_code/],
    ["inverted price range", anonymous.listProducts({ filter: { minPriceMinor: 500n, maxPriceMinor: 100n } }), /filter\.max_price_minor/],
    ["bad category id", anonymous.listProducts({ filter: { categoryId: "nope" } }), /filter\.category_id: must be a UUID/],
    ["empty query", anonymous.searchProducts({ query: "  " }), /query/],
    ["oversized query", anonymous.searchProducts({ query: "x".repeat(201) }), /query/],
    ["unknown sort", anonymous.listProducts({ sort: 99 as ProductSort }), /sort/],
    ["get without id or slug", anonymous.getProduct({}), /id: give exactly one/],
  ];
  for (const [what, call, expected] of reads) {
    const failure = violationsOf(await t.throwsAsync(call));
    t.is(failure.code, Code.InvalidArgument, what);
    t.regex(failure.message, expected, what);
  }
  const reviewer = await user();
  for (const rating of [0, 6, -1]) {
    t.is(violationsOf(await t.throwsAsync(reviewer.createReview({ productId: hammer.id, rating }))).code, Code.InvalidArgument, `rating ${rating}`);
  }
  t.is((await anonymous.getProduct({ id: hammer.id })).product?.rating?.count, 0, "no review was counted");

  const badMask = violationsOf(await t.throwsAsync(admin.updateProduct({ product: { id: hammer.id, etag: hammer.etag }, updateMask: { paths: ["rating"] } })));
  t.is(badMask.code, Code.InvalidArgument);
  t.regex(badMask.message, /update_mask: unknown path "rating"/);
  const slugTaken = await t.throwsAsync(admin.createProduct({ product: { ...base, slug: hammer.slug } }));
  t.is(ConnectError.from(slugTaken).code, Code.AlreadyExists);
  const skuTaken = await t.throwsAsync(admin.createProduct({ product: { ...base, variants: [{ sku: hammer.variants[0]!.sku, prices: [{ currencyCode: "USD", amountMinor: 1n }] }] } }));
  t.is(ConnectError.from(skuTaken).code, Code.AlreadyExists);
  t.is(ConnectError.from(await t.throwsAsync(anonymous.getProduct({ id: uuidv7() }))).code, Code.NotFound);
  t.is(ConnectError.from(await t.throwsAsync(anonymous.listProducts({ filter: { categoryId: uuidv7() } }))).code, Code.NotFound, "unknown category");
  t.is(ConnectError.from(await t.throwsAsync(anonymous.searchProducts({ query: "hammer", filter: { categoryId: uuidv7() } }))).code, Code.NotFound, "unknown category in a search");
});

test("admin RPCs need the admin role and reviews a signed-in user", async (t) => {
  const { admin, anonymous, user } = await startCatalog(t);
  const toys = await category(admin, "Toys");
  const customer = await user();
  const input = { slug: "kite", name: "Kite", categoryId: toys.id, variants: [{ sku: "KITE-1", prices: [{ currencyCode: "USD", amountMinor: 900n }] }] };
  t.is(ConnectError.from(await t.throwsAsync(anonymous.createProduct({ product: input }))).code, Code.Unauthenticated);
  t.is(ConnectError.from(await t.throwsAsync(customer.createProduct({ product: input }))).code, Code.PermissionDenied);
  t.is(ConnectError.from(await t.throwsAsync(customer.createCategory({ category: { name: "X", slug: "x" } }))).code, Code.PermissionDenied);
  t.is(ConnectError.from(await t.throwsAsync(customer.listProducts({ filter: { statuses: [1] } }))).code, Code.PermissionDenied);
  const draft = await product(admin, { name: "Draft Kite", category: toys, status: 1 });
  t.is(ConnectError.from(await t.throwsAsync(customer.getProduct({ id: draft.id }))).code, Code.NotFound, "drafts are invisible to customers");
  t.is((await admin.getProduct({ id: draft.id })).product?.id, draft.id, "but not to admins");
});

test("an import creates and updates valid lines and reports each rejected line with its violations", async (t) => {
  const { admin, anonymous } = await startCatalog(t);
  const lamps = await category(admin, "Lamps");
  const csv = [
    "slug,name,description,brand,category,status,tags,image_urls,attributes,sku,options,prices",
    `desk-lamp,Desk Lamp,Adjustable arm,Lumen,${lamps.slug},active,office|light,https://img.example.com/desk.jpg,colour=black,DESK-1,size=S,USD:2999|EUR:2799`,
    `floor-lamp,Floor Lamp,,Lumen,${lamps.slug},active,,,,FLOOR-1,,USD:0`,
    `ghost-lamp,Ghost Lamp,,Lumen,no-such-category,active,,,,GHOST-1,,USD:100`,
    `desk-lamp,Desk Lamp Again,,Lumen,${lamps.slug},active,,,,DESK-2,,USD:100`,
    `wall-lamp,Wall Lamp,,Lumen,${lamps.slug},draft,,http://insecure.example.com/x.jpg,,WALL-1,,USD:100`,
    `"quoted, lamp",Bad,,,${lamps.slug},active,,,,Q-1,,USD`,
  ].join("\n");
  const report = await admin.importProducts({ format: ImportFormat.CSV, content: new TextEncoder().encode(csv) });
  t.is(report.created, 1);
  t.deepEqual(report.rejected.map((r) => r.line), [3, 4, 5, 6, 7]);
  t.regex(report.rejected[0]!.violations.map((v) => v.description).join(), /USD amount must be between 1/);
  t.regex(report.rejected[1]!.violations.map((v) => `${v.field}: ${v.description}`).join(), /category: no category "no-such-category"/);
  t.regex(report.rejected[2]!.violations.map((v) => v.description).join(), /earlier line/);
  t.regex(report.rejected[3]!.violations.map((v) => v.field).join(), /image_urls\[0\]/);
  const listed = (await anonymous.listProducts({ filter: { categoryId: lamps.id } })).products;
  t.deepEqual(listed.map((p) => p.slug), ["desk-lamp"]);
  t.deepEqual(listed[0]?.attributes, { colour: "black" });

  const jsonl = [
    JSON.stringify({ slug: "desk-lamp", name: "Desk Lamp Mk II", category: lamps.slug, status: "active", brand: "Lumen", variants: [{ sku: "DESK-1", prices: { USD: 3499 } }] }),
    JSON.stringify({ slug: "reading-lamp", name: "Reading Lamp", category: lamps.id, status: "active", variants: [{ sku: "READ-1", options: { colour: "red" }, prices: [{ currency_code: "USD", amount_minor: 1999 }] }] }),
    "{not json",
    JSON.stringify({ slug: "odd-lamp", name: 42, category: lamps.slug, variants: [{ sku: "ODD-1", prices: { USD: 1.5 } }] }),
  ].join("\n");
  const second = await admin.importProducts({ format: ImportFormat.JSON_LINES, content: new TextEncoder().encode(jsonl) });
  t.deepEqual([second.created, second.updated], [1, 1]);
  t.deepEqual(second.rejected.map((r) => r.line), [3, 4]);
  t.regex(second.rejected[1]!.violations.map((v) => v.field).join(), /name.*amount_minor|amount_minor.*name/);
  const desk = (await anonymous.getProduct({ slug: "desk-lamp" })).product;
  t.is(desk?.name, "Desk Lamp Mk II");
  t.deepEqual(desk?.priceFrom.map((m) => [m.currencyCode, m.amountMinor]), [["USD", 3499n]]);

  const oversized = await t.throwsAsync(admin.importProducts({ format: ImportFormat.JSON_LINES, content: new Uint8Array(3 * 1024 * 1024 + 1).fill(32) }));
  t.is(ConnectError.from(oversized).code, Code.InvalidArgument);
  t.regex(ConnectError.from(oversized).rawMessage, /content: must be at most/);
  const dry = await admin.importProducts({ format: ImportFormat.JSON_LINES, content: new TextEncoder().encode(JSON.stringify({ slug: "dry-lamp", name: "Dry", category: lamps.slug, variants: [{ sku: "DRY-1", prices: { USD: 100 } }] })), validateOnly: true });
  t.is(dry.created, 1);
  t.is(ConnectError.from(await t.throwsAsync(anonymous.getProduct({ slug: "dry-lamp" }))).code, Code.NotFound, "validate_only changes nothing");
});

test("read RPCs answer Connect JSON over HTTP GET, so the edge can cache them", async (t) => {
  const { admin, service } = await startCatalog(t);
  const maps = await category(admin, "Maps");
  const atlas = await product(admin, { name: "World Atlas", category: maps, usd: 4500 });
  const message = encodeURIComponent(JSON.stringify({ filter: { categoryId: maps.id }, sort: "PRODUCT_SORT_PRICE_ASC", pageSize: 5 }));
  const response = await fetch(`http://${service.address}/bazaar.catalog.v1.CatalogService/ListProducts?connect=v1&encoding=json&message=${message}`);
  t.is(response.status, 200);
  const body = (await response.json()) as { products: { id: string; priceFrom: { amountMinor: string; currencyCode: string }[] }[] };
  t.is(body.products[0]?.id, atlas.id);
  t.deepEqual(body.products[0]?.priceFrom, [{ amountMinor: "4500", currencyCode: "USD" }]);
  const post = await fetch(`http://${service.address}/bazaar.catalog.v1.CatalogService/ListProducts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ pageSize: 1000 }),
  });
  t.is(post.status, 400);
  t.is(((await post.json()) as { code: string }).code, "invalid_argument");
});

test("the in-stock filter follows inventory's OutOfStock and BackInStock events", async (t) => {
  const { admin, anonymous } = await startCatalog(t, { followStock: true });
  const socks = await category(admin, "Socks");
  const pair = await product(admin, { name: "Wool Socks", category: socks });
  const sku = pair.variants[0]!.sku;
  const inStock = async () => (await anonymous.listProducts({ filter: { categoryId: socks.id, inStockOnly: true } })).products.map((p) => p.id);
  t.deepEqual(await inStock(), [], "unknown to inventory: not in stock");

  const nats = await connect(natsServers(env.NATS_URL ?? "nats://127.0.0.1:4222"));
  t.teardown(() => nats.close());
  const js = nats.jetstream();
  const send = async (subject: string, payload: Uint8Array, id: string) => js.publish(subject, payload, { msgID: id });
  const back = create(BackInStockSchema, { eventId: uuidv7(), sku, available: 12n });
  await send(subjectFor(BackInStockSchema.typeName), toBinary(BackInStockSchema, back), back.eventId);
  await eventually("the product to be in stock", async () => (await inStock()).length === 1);
  t.true((await anonymous.getProduct({ id: pair.id })).product?.variants[0]?.inStock);

  const out = create(OutOfStockSchema, { eventId: uuidv7(), sku });
  await send(subjectFor(OutOfStockSchema.typeName), toBinary(OutOfStockSchema, out), out.eventId);
  await eventually("the product to be out of stock", async () => (await inStock()).length === 0);
  t.false((await anonymous.getProduct({ id: pair.id })).product?.inStock);
  t.deepEqual((await anonymous.listProducts({ filter: { categoryId: socks.id } })).products.map((p) => p.id), [pair.id], "still listed without the filter");
});
