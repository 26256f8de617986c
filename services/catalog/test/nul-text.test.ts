// U+0000, which PostgreSQL cannot store, in any text field of a catalog request is invalid_argument
// naming the field (never internal), and changes nothing — over gRPC and Connect JSON.
import test from "ava";
import { Code } from "@connectrpc/connect";
import { failure } from "@bazaar/platform/testing";
import { category, product } from "./fixtures.ts";
import { startCatalog } from "./helpers.ts";

const nul = "\u0000";

/** The code's name ("OK" when the call succeeded) and the violated field paths. */
const refusal = async (call: Promise<unknown>) => {
  const { code, fields } = await failure(call);
  return { code: code === undefined ? "OK" : Code[code], fields };
};

test("search, filters and slug lookups with U+0000 are invalid_argument naming each field", async (t) => {
  const { admin, anonymous } = await startCatalog(t);
  const shoes = await category(admin, "Shoes");
  await product(admin, { name: "Trail Runner", category: shoes, brand: "Acme" });

  t.deepEqual(await refusal(anonymous.searchProducts({ query: `trail${nul}` })), { code: "InvalidArgument", fields: ["query"] });
  t.deepEqual(
    await refusal(anonymous.searchProducts({ query: "trail", filter: { brands: ["Acme", `Ac${nul}me`], attributes: [{ name: `colo${nul}r`, values: ["red", `r${nul}`] }] } })),
    { code: "InvalidArgument", fields: ["filter.brands[1]", "filter.attributes[0].name", "filter.attributes[0].values[1]"] },
  );
  t.deepEqual(await refusal(anonymous.listProducts({ filter: { brands: [nul] } })), { code: "InvalidArgument", fields: ["filter.brands[0]"] });
  t.deepEqual(await refusal(anonymous.getProduct({ slug: `trail-runner${nul}` })), { code: "InvalidArgument", fields: ["slug"] });
  // The same requests without the NUL work.
  t.is((await anonymous.searchProducts({ query: "trail", filter: { brands: ["Acme"] } })).products.length, 1);
});

test("writes with U+0000 (category name, product description and attributes, review title and body) change nothing", async (t) => {
  const { admin, anonymous, user } = await startCatalog(t);
  const shoes = await category(admin, "Shoes");
  const boot = await product(admin, { name: "Hiking Boot", category: shoes });
  const before = (await anonymous.listCategories({})).categories.length;

  t.deepEqual(await refusal(admin.createCategory({ category: { name: `Sock${nul}s`, slug: "socks-nul" } })), { code: "InvalidArgument", fields: ["category.name"] });
  t.is((await anonymous.listCategories({})).categories.length, before);

  const created = await refusal(
    admin.createProduct({
      product: { name: "Sandal", slug: "sandal-nul", categoryId: shoes.id, description: `cool${nul}`, attributes: { [`size${nul}`]: "42" }, variants: [{ sku: "SANDAL-NUL-1" }] },
    }),
  );
  t.is(created.code, "InvalidArgument");
  t.deepEqual(created.fields.sort(), ["product.attributes[\"size\\u0000\"]", "product.description"]);
  t.is(await refusal(anonymous.getProduct({ slug: "sandal-nul" })).then((r) => r.code), "NotFound");

  const shopper = await user();
  t.deepEqual(await refusal(shopper.createReview({ productId: boot.id, rating: 5, title: `Gre${nul}at`, body: `Fits${nul}` })), {
    code: "InvalidArgument",
    fields: ["title", "body"],
  });
  t.is((await anonymous.listReviews({ productId: boot.id })).reviews.length, 0);
});

test("Connect JSON with an escaped U+0000 is refused the same way", async (t) => {
  const { service } = await startCatalog(t);
  const response = await fetch(`http://${service.address}/bazaar.catalog.v1.CatalogService/SearchProducts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"query":"shoe\\u0000"}',
  });
  t.is(response.status, 400);
  const body = (await response.json()) as { code: string; message: string };
  t.is(body.code, "invalid_argument");
  t.regex(body.message, /query: must not contain the NUL character/);
});
