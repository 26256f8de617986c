// The catalog through a real server (gRPC and Connect JSON) on the real PostgreSQL, NATS and Consul:
// category trees, search with typos, facets, keyset pagination over a changing table, reviews, etags.
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import test from "ava";
import { ProductSort, ProductStatus } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { PriceChangedSchema, ProductCreatedSchema } from "@bazaar/contracts/bazaar/catalog/v1/events_pb";
import { category, product } from "./fixtures.ts";
import { startCatalog } from "./helpers.ts";

const code = (error: unknown) => ConnectError.from(error).code;

test("a product in a subcategory is found from every ancestor category and not from its siblings", async (t) => {
  const { admin, anonymous } = await startCatalog(t);
  const clothing = await category(admin, "Clothing");
  const men = await category(admin, "Men", clothing);
  const shirts = await category(admin, "Shirts", men);
  const women = await category(admin, "Women", clothing);
  const shirt = await product(admin, { name: "Oxford Shirt", category: shirts });
  const dress = await product(admin, { name: "Summer Dress", category: women });

  const ids = async (categoryId: string) => (await anonymous.listProducts({ filter: { categoryId } })).products.map((p) => p.id).sort();
  t.deepEqual(await ids(clothing.id), [shirt.id, dress.id].sort());
  t.deepEqual(await ids(men.id), [shirt.id]);
  t.deepEqual(await ids(shirts.id), [shirt.id]);
  t.deepEqual(await ids(women.id), [dress.id]);

  const tree = (await anonymous.listCategories({ parentId: clothing.id, recursive: true })).categories;
  t.deepEqual(tree.map((c) => c.name).sort(), ["Men", "Shirts", "Women"]);
  t.deepEqual(tree.find((c) => c.id === shirts.id)?.ancestorIds, [clothing.id, men.id]);

  // Moving a subtree moves its products with it.
  const moved = await admin.updateCategory({ category: { id: men.id, parentId: women.id, etag: men.etag }, updateMask: { paths: ["parent_id"] } });
  t.is(moved.category?.depth, 2);
  t.deepEqual(await ids(women.id), [shirt.id, dress.id].sort());
  const cycle = await t.throwsAsync(admin.updateCategory({ category: { id: clothing.id, parentId: shirts.id }, updateMask: { paths: ["parent_id"] } }));
  t.is(code(cycle), Code.FailedPrecondition);
  t.is(code(await t.throwsAsync(admin.deleteCategory({ id: shirts.id }))), Code.FailedPrecondition);
});

test("search finds products despite a small typo and ranks a name match above a description match", async (t) => {
  const { admin, anonymous } = await startCatalog(t);
  const audio = await category(admin, "Audio");
  const headphones = await product(admin, { name: "Wireless Headphones", category: audio, description: "Noise cancelling, 30 hours of battery." });
  const cable = await product(admin, { name: "Audio Cable", category: audio, description: "Connects headphones to any amplifier." });
  await product(admin, { name: "Hiking Boots", category: audio, description: "Leather boots." });

  const exact = await anonymous.searchProducts({ query: "headphones" });
  t.deepEqual(exact.products.map((p) => p.id), [headphones.id, cable.id]);

  for (const typo of ["hedphones", "wirless headphnes", "headphone"]) {
    const found = await anonymous.searchProducts({ query: typo });
    t.is(found.products[0]?.id, headphones.id, `"${typo}" finds the headphones first`);
    t.false(found.products.some((p) => p.name === "Hiking Boots"), `"${typo}" does not match the boots`);
  }
  t.is((await anonymous.searchProducts({ query: "submarine" })).products.length, 0);
});

test("search returns facet counts of brands, subcategories and price bands over all matches, not only the page", async (t) => {
  const { admin, anonymous } = await startCatalog(t);
  const kitchen = await category(admin, "Kitchen");
  const pans = await category(admin, "Pans", kitchen);
  const knives = await category(admin, "Knives", kitchen);
  await product(admin, { name: "Steel Frying Pan", brand: "Forge", usd: 3_500, category: pans });
  await product(admin, { name: "Cast Iron Pan", brand: "Forge", usd: 6_000, category: pans });
  await product(admin, { name: "Nonstick Pan", brand: "Slick", usd: 2_000, category: pans });
  await product(admin, { name: "Pan Knife", brand: "Edge", usd: 12_000, category: knives });
  await product(admin, { name: "Bread Knife", brand: "Edge", usd: 4_000, category: knives });

  const result = await anonymous.searchProducts({ query: "pan", filter: { categoryId: kitchen.id }, pageSize: 2 });
  t.is(result.products.length, 2);
  t.is(result.totalSize, 4n);
  t.deepEqual(
    result.facets?.brands.map((f) => [f.value, f.count]),
    [
      ["Forge", 2n],
      ["Edge", 1n],
      ["Slick", 1n],
    ],
  );
  t.deepEqual(
    result.facets?.categories.map((f) => [f.label, f.count]),
    [
      ["Pans", 3n],
      ["Knives", 1n],
    ],
  );
  t.deepEqual(
    result.facets?.priceBands.map((f) => [f.value, f.count]),
    [
      ["1000-2500", 1n],
      ["2500-5000", 1n],
      ["5000-10000", 1n],
      ["10000-25000", 1n],
    ],
  );
  const forge = await anonymous.searchProducts({ query: "pan", filter: { brands: ["Forge"], maxPriceMinor: 5_000n } });
  t.deepEqual(forge.products.map((p) => p.name), ["Steel Frying Pan"]);
  // Facets are disjunctive: the brand facet ignores the brand filter, the price bands the price filter.
  t.deepEqual(forge.facets?.brands.map((f) => [f.value, f.count]), [["Forge", 1n], ["Slick", 1n]]);
  t.deepEqual(forge.facets?.priceBands.map((f) => [f.value, f.count]), [["2500-5000", 1n], ["5000-10000", 1n]]);
  t.is(forge.totalSize, 1n);
  const iron = await product(admin, { name: "Iron Skillet", brand: "Forge", usd: 4_500, category: pans, attributes: { material: "iron" } });
  await product(admin, { name: "Steel Skillet", brand: "Forge", usd: 4_600, category: pans, attributes: { material: "steel" } });
  const byAttribute = await anonymous.listProducts({ filter: { categoryId: kitchen.id, attributes: [{ name: "material", values: ["iron", "copper"] }] } });
  t.deepEqual(byAttribute.products.map((p) => p.id), [iron.id]);
  const cheapestFirst = await anonymous.listProducts({ filter: { categoryId: kitchen.id, minPriceMinor: 2_500n }, sort: ProductSort.PRICE_ASC });
  t.deepEqual(cheapestFirst.products.map((p) => p.priceFrom[0]?.amountMinor), [3_500n, 4_000n, 4_500n, 4_600n, 6_000n, 12_000n]);
});

test("keyset pagination over a table that changes between pages serves every product once, without duplicates or gaps", async (t) => {
  const { admin, anonymous } = await startCatalog(t);
  const shelf = await category(admin, "Shelf");
  const original = [];
  for (let i = 0; i < 24; i++) original.push(await product(admin, { name: `Item ${i}`, category: shelf, usd: 1000 + (i % 6) * 100 }));

  for (const sort of [ProductSort.PRICE_ASC, ProductSort.NEWEST, ProductSort.PRICE_DESC]) {
    const seen: string[] = [];
    let token = "";
    let page = 0;
    do {
      const reply = await anonymous.listProducts({ filter: { categoryId: shelf.id }, sort, pageSize: 5, pageToken: token });
      seen.push(...reply.products.map((p) => p.id));
      token = reply.nextPageToken;
      // Between pages the catalog changes: products appear at prices before and after the cursor.
      await product(admin, { name: `Newcomer ${sort}-${page}-a`, category: shelf, usd: 900 });
      await product(admin, { name: `Newcomer ${sort}-${page}-b`, category: shelf, usd: 1550 });
      page++;
    } while (token !== "" && page < 50);
    t.is(new Set(seen).size, seen.length, `no duplicates (sort ${ProductSort[sort]})`);
    const missing = original.filter((p) => !seen.includes(p.id));
    t.deepEqual(missing, [], `no gaps (sort ${ProductSort[sort]})`);
  }
  const bad = await t.throwsAsync(anonymous.listProducts({ filter: { categoryId: shelf.id }, sort: ProductSort.NEWEST, pageToken: (await anonymous.listProducts({ filter: { categoryId: shelf.id }, sort: ProductSort.PRICE_ASC, pageSize: 2 })).nextPageToken }));
  t.is(code(bad), Code.InvalidArgument, "a token of another query is rejected");
});

test("one review per user and product: a second one is already_exists and the rating counts the first only", async (t) => {
  const { admin, anonymous, user } = await startCatalog(t);
  const books = await category(admin, "Books");
  const novel = await product(admin, { name: "A Novel", category: books });
  const alice = await user();
  const bob = await user();

  const first = await alice.createReview({ productId: novel.id, rating: 5, title: "Loved it" });
  t.false(first.review?.verifiedPurchase);
  const again = await t.throwsAsync(alice.createReview({ productId: novel.id, rating: 1, title: "Changed my mind" }));
  t.is(code(again), Code.AlreadyExists);
  const second = await bob.createReview({ productId: novel.id, rating: 2 });
  t.deepEqual([second.productRating?.average, second.productRating?.count], [3.5, 2]);

  const fetched = await anonymous.getProduct({ id: novel.id });
  t.deepEqual([fetched.product?.rating?.average, fetched.product?.rating?.count], [3.5, 2]);
  t.deepEqual((await anonymous.listReviews({ productId: novel.id })).reviews.map((r) => r.rating), [2, 5]);
  t.is(code(await t.throwsAsync(anonymous.createReview({ productId: novel.id, rating: 4 }))), Code.Unauthenticated);
  const sorted = await anonymous.listProducts({ filter: { categoryId: books.id }, sort: ProductSort.RATING });
  t.is(sorted.products[0]?.id, novel.id);
});

test("an update with a stale etag is aborted and changes nothing; a current one applies only the masked fields", async (t) => {
  const { admin, anonymous, service } = await startCatalog(t);
  const garden = await category(admin, "Garden");
  const hose = await product(admin, { name: "Garden Hose", category: garden, usd: 2500, brand: "Flow" });

  const updated = await admin.updateProduct({
    product: { id: hose.id, etag: hose.etag, name: "Garden Hose 30 m", brand: "ignored" },
    updateMask: { paths: ["name"] },
  });
  t.is(updated.product?.name, "Garden Hose 30 m");
  t.is(updated.product?.brand, "Flow");
  t.not(updated.product?.etag, hose.etag);

  const stale = await t.throwsAsync(admin.updateProduct({ product: { id: hose.id, etag: hose.etag, name: "Lost update" }, updateMask: { paths: ["name"] } }));
  t.is(code(stale), Code.Aborted);
  t.is((await anonymous.getProduct({ id: hose.id })).product?.name, "Garden Hose 30 m");

  const repriced = await admin.updateProduct({
    product: { id: hose.id, etag: updated.product!.etag, variants: [{ sku: hose.variants[0]!.sku, prices: [{ currencyCode: "USD", amountMinor: 2999n }, { currencyCode: "EUR", amountMinor: 2799n }] }] },
    updateMask: { paths: ["variants"] },
  });
  t.deepEqual(repriced.product?.priceFrom.map((m) => [m.currencyCode, m.amountMinor]), [["EUR", 2799n], ["USD", 2999n]]);

  t.is(code(await t.throwsAsync(admin.archiveProduct({ id: hose.id, etag: hose.etag }))), Code.Aborted, "archiving with a stale etag is aborted too");
  const archived = await admin.archiveProduct({ id: hose.id, etag: repriced.product!.etag });
  t.is(archived.product?.status, ProductStatus.ARCHIVED);
  t.is(code(await t.throwsAsync(anonymous.getProduct({ id: hose.id }))), Code.NotFound);
  t.is((await anonymous.listProducts({ filter: { categoryId: garden.id } })).products.length, 0);
  t.is((await admin.archiveProduct({ id: hose.id })).product?.status, ProductStatus.ARCHIVED, "archiving again changes nothing");

  // Every change went out through the outbox, in the same transaction as the change.
  const events = await service.runtime.database.em().execute<{ type_name: string; payload: Buffer }[]>("select type_name, payload from platform_outbox order by event_id");
  const ofHose = events.filter((e) => e.type_name !== "bazaar.catalog.v1.ProductCreated" || fromBinary(ProductCreatedSchema, e.payload).productId === hose.id);
  t.deepEqual(
    ofHose.map((e) => e.type_name.replace("bazaar.catalog.v1.", "")),
    ["ProductCreated", "ProductUpdated", "ProductUpdated", "PriceChanged", "PriceChanged", "ProductArchived"],
  );
  const prices = ofHose.filter((e) => e.type_name.endsWith("PriceChanged")).map((e) => fromBinary(PriceChangedSchema, e.payload));
  t.deepEqual(
    prices.map((p) => [p.newPrice?.currencyCode, p.oldPrice?.amountMinor, p.newPrice?.amountMinor]).sort(),
    [["EUR", undefined, 2799n], ["USD", 2500n, 2999n]],
  );
});
