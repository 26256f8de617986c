// Builders of catalog content for tests, through the admin RPCs.
import { randomBytes } from "node:crypto";
import type { Client } from "@connectrpc/connect";
import { ProductStatus, type CatalogService, type Category, type Product } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";

type Catalog = Client<typeof CatalogService>;
const suffix = () => randomBytes(3).toString("hex");

export async function category(admin: Catalog, name: string, parent?: Category): Promise<Category> {
  const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${suffix()}`;
  const { category } = await admin.createCategory({ category: { name, slug, parentId: parent?.id ?? "" } });
  return category!;
}

export interface ProductSpec {
  name: string;
  category: Category;
  description?: string;
  brand?: string;
  usd?: number;
  attributes?: Record<string, string>;
  status?: ProductStatus;
}

export async function product(admin: Catalog, spec: ProductSpec): Promise<Product> {
  const tag = suffix();
  const slug = `${spec.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")}-${tag}`;
  const { product } = await admin.createProduct({
    product: {
      slug,
      name: spec.name,
      description: spec.description ?? "",
      brand: spec.brand ?? "",
      categoryId: spec.category.id,
      status: spec.status ?? ProductStatus.ACTIVE,
      attributes: spec.attributes ?? {},
      imageUrls: [`https://images.example.com/${slug}.jpg`],
      variants: [{ sku: `SKU-${tag.toUpperCase()}-1`, options: { size: "M" }, prices: [{ currencyCode: "USD", amountMinor: BigInt(spec.usd ?? 1999) }] }],
    },
  });
  return product!;
}
