// BatchGetVariants through a real server: the order asked is kept, unknown SKUs and customers' view of
// drafts come back found=false, archived products are found with their status, bad input names the index.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import test, { type ExecutionContext } from "ava";
import { createService, loadConfig, platformConfigSchema } from "@bazaar/platform";
import { bearer, createTestSigner } from "@bazaar/platform/testing";
import { BadRequestSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { CatalogService, ProductStatus } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { catalog } from "../src/server.ts";
import { category, product } from "./fixtures.ts";
import { dropDatabase, env, uniqueName } from "./helpers.ts";

/** A catalog with clients for an admin, a customer, a service and an anonymous caller (one signer). */
async function startCatalog(t: ExecutionContext) {
  const signer = await createTestSigner();
  const name = uniqueName();
  const service = await createService(catalog({ name, followStock: false }), { config: loadConfig(platformConfigSchema, env), verifier: signer.verifier });
  t.teardown(async () => {
    await service.stop();
    await dropDatabase(name);
  });
  const client = (token?: string) => createClient(CatalogService, createGrpcTransport({ baseUrl: `http://${service.address}`, interceptors: [bearer(token)] }));
  return {
    anonymous: client(),
    admin: client(await signer.token({ roles: ["admin"] })),
    customer: client(await signer.token()),
    service: client(await signer.token({ subject: "cart", service: true })),
  };
}

const skuOf = (p: { variants: { sku: string }[] }) => p.variants[0]!.sku;

test("variants come back in the order asked with product name, slug, status, image and prices; unknown SKUs are found=false", async (t) => {
  const { admin, anonymous } = await startCatalog(t);
  const c = await category(admin, "Tools");
  const hammer = await product(admin, { name: "Claw Hammer", category: c, usd: 2_499 });
  const saw = await product(admin, { name: "Hand Saw", category: c, usd: 1_850 });

  const { variants } = await anonymous.batchGetVariants({ skus: [skuOf(saw), "NO-SUCH-SKU", skuOf(hammer), skuOf(saw)] });
  t.deepEqual(variants.map((v) => [v.sku, v.found]), [
    [skuOf(saw), true],
    ["NO-SUCH-SKU", false],
    [skuOf(hammer), true],
    [skuOf(saw), true],
  ]);
  const first = variants[0]!;
  t.is(first.productId, saw.id);
  t.is(first.productName, "Hand Saw");
  t.is(first.productSlug, saw.slug);
  t.is(first.productStatus, ProductStatus.ACTIVE);
  t.deepEqual(first.options, { size: "M" });
  t.deepEqual(first.prices.map((p) => [p.currencyCode, p.amountMinor]), [["USD", 1_850n]]);
  t.is(first.imageUrl, saw.imageUrls[0] ?? "");
  t.false(first.inStock);
  t.is(variants[1]!.productId, "");
  t.is(variants[2]!.prices[0]?.amountMinor, 2_499n);
});

test("drafts are found=false for customers and anonymous callers but found for admins and services; archived products are found with their status", async (t) => {
  const { admin, anonymous, customer, service } = await startCatalog(t);
  const c = await category(admin, "Garden");
  const draft = await product(admin, { name: "Secret Rake", category: c, status: ProductStatus.DRAFT });
  const old = await product(admin, { name: "Old Spade", category: c });
  await admin.archiveProduct({ id: old.id });
  const skus = [skuOf(draft), skuOf(old)];

  for (const [who, client] of [["anonymous", anonymous], ["customer", customer]] as const) {
    const { variants } = await client.batchGetVariants({ skus });
    t.false(variants[0]!.found, `${who} does not see the draft`);
    t.is(variants[0]!.productName, "", `${who} learns nothing of the draft`);
    t.true(variants[1]!.found, `${who} sees the archived product`);
    t.is(variants[1]!.productStatus, ProductStatus.ARCHIVED);
  }
  for (const [who, client] of [["admin", admin], ["service", service]] as const) {
    const { variants } = await client.batchGetVariants({ skus });
    t.true(variants[0]!.found, `${who} sees the draft`);
    t.is(variants[0]!.productStatus, ProductStatus.DRAFT);
  }
});

test("an empty list, more than 100 SKUs or a malformed SKU is invalid_argument naming the field and index", async (t) => {
  const { anonymous } = await startCatalog(t);
  const fields = async (skus: string[]) => {
    const error = ConnectError.from(await t.throwsAsync(anonymous.batchGetVariants({ skus })));
    t.is(error.code, Code.InvalidArgument);
    return error.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field));
  };
  t.deepEqual(await fields([]), ["skus"]);
  t.deepEqual(await fields(Array.from({ length: 101 }, (_, i) => `SKU-${i}`)), ["skus"]);
  t.deepEqual(await fields(["GOOD-1", "bad sku", "GOOD-2", ""]), ["skus[1]", "skus[3]"]);
});

test("a variant carries its product's category and that category's ancestors, top level first (what category promotions match)", async (t) => {
  const { admin, service } = await startCatalog(t);
  const tools = await category(admin, "Tools");
  const saws = await category(admin, "Saws", tools);
  const saw = await product(admin, { name: "Coping Saw", category: saws, usd: 1_200 });
  const { variants } = await service.batchGetVariants({ skus: [skuOf(saw)] });
  t.deepEqual(variants[0]!.categoryIds, [tools.id, saws.id]);
});
