// What the journeys need from the shop before the load starts, found through its public catalog
// API as a visitor would: categories to browse, in-stock products (slug and a SKU) to view and buy,
// and words to search for.
import type { Client } from "@connectrpc/connect";
import type { CatalogService } from "@bazaar/client";

export interface ShopCatalog {
  categoryIds: string[];
  products: { slug: string; sku: string; name: string }[];
  searchTerms: string[];
}

export async function discoverCatalog(catalog: Client<typeof CatalogService>, currencyCode: string): Promise<ShopCatalog> {
  const [{ categories }, page] = await Promise.all([catalog.listCategories({}), catalog.listProducts({ filter: { currencyCode }, pageSize: 100 })]);
  const priced = page.products.flatMap((p) =>
    p.variants.filter((v) => v.prices.some((price) => price.currencyCode === currencyCode)).map((v) => ({ slug: p.slug, sku: v.sku, name: p.name, inStock: v.inStock })),
  );
  // In-stock variants when the catalog flags any (a seeded shop does); else every priced one (a
  // catalog that does not follow stock flags none, and checkouts then show what inventory says).
  const inStock = priced.filter((v) => v.inStock);
  const products = (inStock.length > 0 ? inStock : priced).filter((v, i, all) => all.findIndex((w) => w.slug === v.slug) === i).map(({ slug, sku, name }) => ({ slug, sku, name }));
  if (products.length === 0) throw new Error(`the shop lists no product priced in ${currencyCode} (run \`npm run seed\`?)`);
  const words = new Set(products.flatMap((p) => p.name.toLowerCase().split(/[^a-z]+/).filter((w) => w.length >= 4)));
  return { categoryIds: categories.map((c) => c.id), products, searchTerms: [...words].slice(0, 50) };
}
