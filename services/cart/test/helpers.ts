// A private mesh for the cart's tests: catalog, inventory, shipping (with the default zones), promotion and cart started
// in-process on port 0 by @bazaar/platform/testing's startTestMesh, typed clients for each kind of caller, and
// builders of products (catalog admin RPCs) and stock (inventory ReceiveStock).
import { randomBytes, randomUUID } from "node:crypto";
import { Code, type Client, type Interceptor } from "@connectrpc/connect";
import { bearer, cartToken, eventually, meshService, perFile, startTestMesh, type FileHooks } from "@bazaar/platform/testing";
import { CartService } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { CatalogService, ProductStatus, type Product } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { catalog } from "@bazaar/catalog";
import { inventory } from "@bazaar/inventory";
import type { Sweep } from "@bazaar/platform";
import { PromotionService } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { promotion, promotionConfigSchema } from "@bazaar/promotion";
import { seedShipping, shipping, shippingConfigSchema } from "@bazaar/shipping";
import { cart, cartConfigSchema } from "../src/index.ts";

export { eventually };

type CartClient = Client<typeof CartService>;
/** The services of the cart's mesh. */
type MeshService = "catalog" | "inventory" | "promotion" | "cart" | "shipping";

export interface Mesh {
  names: Readonly<Record<MeshService, string>>;
  /** Admin clients of the upstreams, to make products, stock and promotions. */
  catalogAdmin: Client<typeof CatalogService>;
  inventoryAdmin: Client<typeof InventoryService>;
  promotionAdmin: Client<typeof PromotionService>;
  /** Cart clients: anonymous or signed in (a new user by default), optionally sending a guest cart token; staff; a service. */
  guest(cartToken?: string): CartClient;
  user(userId?: string, cartToken?: string): Promise<CartClient & { userId: string }>;
  admin: CartClient;
  service: CartClient;
  sweeper(): Sweep;
  /** Stops the promotion service (deregistered from Consul) for the rest of the test. */
  stopPromotion(): Promise<void>;
  /** Reads or writes the cart's own database. */
  sql<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface MeshOptions {
  /** Cart variables over the test defaults. */
  env?: Record<string, string>;
}

/** Starts catalog, inventory, shipping, promotion and cart for one test; all stopped and their databases dropped at teardown. */
export async function startMesh(t: { teardown(fn: () => Promise<void> | void): void }, options: MeshOptions = {}): Promise<Mesh> {
  let sweeper: Sweep | undefined;
  // Two connections for promotion and shipping: each test file starts a mesh, and the server's connections are shared.
  const small = { DB_POOL_SIZE: "2" };
  const mesh = await startTestMesh<MeshService>(t, {
    stages: [
      {
        catalog: meshService({ define: (name) => catalog({ name, followStock: false }) }),
        inventory: meshService({ define: (name) => inventory({ name }) }),
        promotion: meshService({ configSchema: promotionConfigSchema, env: small, define: (name, config) => promotion({ config, name, followOrders: false }) }),
      },
      { shipping: meshService({ configSchema: shippingConfigSchema, env: small, define: (name, config) => shipping({ config, name }), ready: (s) => seedShipping(s.runtime.database) }) },
      {
        cart: meshService({
          configSchema: cartConfigSchema,
          env: options.env,
          define: (name, config) => cart({ config, name, onSweeper: (s) => (sweeper = s) }),
          calls: ["catalog", "inventory", "shipping", "promotion"],
        }),
      },
    ],
  });
  const adminToken = await mesh.signer.token({ subject: randomUUID(), roles: ["admin"] });
  const cartClient = (...interceptors: Interceptor[]) => mesh.client(CartService, "cart", ...interceptors);
  return {
    names: mesh.names,
    catalogAdmin: mesh.client(CatalogService, "catalog", bearer(adminToken)),
    inventoryAdmin: mesh.client(InventoryService, "inventory", bearer(adminToken)),
    promotionAdmin: mesh.client(PromotionService, "promotion", bearer(adminToken)),
    guest: (token) => cartClient(cartToken(token)),
    async user(userId = randomUUID(), token?: string) {
      return Object.assign(cartClient(bearer(await mesh.signer.token({ subject: userId })), cartToken(token)), { userId });
    },
    admin: cartClient(bearer(adminToken)),
    service: cartClient(bearer(await mesh.signer.token({ subject: "order", service: true }))),
    sweeper: () => sweeper!,
    stopPromotion: () => mesh.stop("promotion"),
    sql: (text, params) => mesh.sql("cart", text, params),
  };
}

/** One mesh shared by the tests of a file (each test uses its own products and users). */
export const meshPerFile = (test: FileHooks, options: MeshOptions = {}): (() => Mesh) => perFile(test, (teardown) => startMesh({ teardown }, options));

export interface ProductSpec {
  name?: string;
  /** Prices in minor units by currency (default USD 1000). */
  prices?: Record<string, number>;
  status?: ProductStatus;
  /** Units received into stock (default 100; 0 for none). */
  stock?: number;
  /** Unit weight in grams (default 0: not recorded). */
  weightGrams?: number;
}

/** A product with one variant, in stock as asked; returns its SKU and the product. */
export async function sellable(mesh: Mesh, spec: ProductSpec = {}): Promise<{ sku: string; product: Product }> {
  const tag = randomBytes(4).toString("hex");
  const { category } = await mesh.catalogAdmin.createCategory({ category: { name: "Things", slug: `things-${tag}` } });
  const sku = `SKU-${tag.toUpperCase()}`;
  const { product } = await mesh.catalogAdmin.createProduct({
    product: {
      slug: `thing-${tag}`,
      name: spec.name ?? `Thing ${tag}`,
      categoryId: category!.id,
      status: spec.status ?? ProductStatus.ACTIVE,
      imageUrls: [`https://images.example.com/${tag}.jpg`],
      variants: [
        {
          sku,
          options: { colour: "blue" },
          prices: Object.entries(spec.prices ?? { USD: 1000 }).map(([currencyCode, amount]) => ({ currencyCode, amountMinor: BigInt(amount) })),
          weightGrams: BigInt(spec.weightGrams ?? 0),
        },
      ],
    },
  });
  if ((spec.stock ?? 100) > 0) await mesh.inventoryAdmin.receiveStock({ sku, quantity: BigInt(spec.stock ?? 100) });
  return { sku, product: product! };
}

export { failure } from "@bazaar/platform/testing";

export { Code };
