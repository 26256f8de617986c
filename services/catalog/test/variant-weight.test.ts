// Variant weights and dimensions (for shipping): written by create and import, read back on the
// product and by BatchGetVariants; bad values are named and change nothing.
import test from "ava";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { ImportFormat, ProductStatus } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { category } from "./fixtures.ts";
import { startCatalog } from "./helpers.ts";

test("a variant's weight and dimensions are stored, read back and given to BatchGetVariants; absurd ones are named", async (t) => {
  const { admin, anonymous } = await startCatalog(t);
  const c = await category(admin, "Parcels");
  const { product } = await admin.createProduct({
    product: {
      slug: `kettle-${Date.now()}`,
      name: "Kettle",
      categoryId: c.id,
      status: ProductStatus.ACTIVE,
      variants: [
        { sku: `KETTLE-${Date.now()}-A`, prices: [{ currencyCode: "USD", amountMinor: 3999n }], weightGrams: 1250n, dimensions: { lengthMm: 250, widthMm: 200, heightMm: 180 } },
        { sku: `KETTLE-${Date.now()}-B`, prices: [{ currencyCode: "USD", amountMinor: 3999n }] },
      ],
    },
  });
  t.is(product!.variants[0]!.weightGrams, 1250n);
  t.like(product!.variants[0]!.dimensions, { lengthMm: 250, widthMm: 200, heightMm: 180 });
  t.is(product!.variants[1]!.weightGrams, 0n);
  t.is(product!.variants[1]!.dimensions, undefined);
  const { variants } = await anonymous.batchGetVariants({ skus: product!.variants.map((v) => v.sku) });
  t.deepEqual(variants.map((v) => v.weightGrams), [1250n, 0n]);

  const error = await t.throwsAsync(
    admin.createProduct({
      product: {
        slug: `anvil-${Date.now()}`,
        name: "Anvil",
        categoryId: c.id,
        variants: [{ sku: `ANVIL-${Date.now()}`, prices: [{ currencyCode: "USD", amountMinor: 1n }], weightGrams: 1_000_001n, dimensions: { lengthMm: 0, widthMm: 10, heightMm: 10_001 } }],
      },
    }),
  );
  const e = ConnectError.from(error);
  t.is(e.code, Code.InvalidArgument);
  t.deepEqual(e.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field)).sort(), [
    "product.variants[0].dimensions.height_mm",
    "product.variants[0].dimensions.length_mm",
    "product.variants[0].weight_grams",
  ]);
});

test("imports accept weight_grams in CSV and JSON lines, and reject a weight that is not a whole number", async (t) => {
  const { admin, anonymous } = await startCatalog(t);
  const c = await category(admin, "Imported");
  const csv = [
    "slug,name,category,status,sku,prices,weight_grams",
    `mug-w,Mug,${c.slug},active,MUG-W1,USD:999,350`,
    `jug-w,Jug,${c.slug},active,JUG-W1,USD:999,heavy`,
  ].join("\n");
  const report = await admin.importProducts({ format: ImportFormat.CSV, content: new TextEncoder().encode(csv) });
  t.is(report.created, 1);
  t.deepEqual(report.rejected.map((r) => [r.line, r.violations.map((v) => v.field).join()]), [[3, "weight_grams"]]);
  const jsonl = JSON.stringify({ slug: "pot-w", name: "Pot", category: c.slug, status: "active", variants: [{ sku: "POT-W1", prices: { USD: 1999 }, weight_grams: 2100 }] });
  t.is((await admin.importProducts({ format: ImportFormat.JSON_LINES, content: new TextEncoder().encode(jsonl) })).created, 1);
  const { variants } = await anonymous.batchGetVariants({ skus: ["MUG-W1", "POT-W1"] });
  t.deepEqual(variants.map((v) => v.weightGrams), [350n, 2100n]);
});
