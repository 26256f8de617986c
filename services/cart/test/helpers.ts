// A private mesh for the cart's tests: catalog, inventory, shipping (with the default zones) and cart started in-process on port 0 with
// unique Consul names and databases and one test signer, typed clients for each kind of caller, and
// builders of products (catalog admin RPCs) and stock (inventory ReceiveStock).
import { randomBytes, randomUUID } from "node:crypto";
import { Code, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { CART_TOKEN_HEADER, createService, loadConfig, platformConfigSchema, type RunningService } from "@bazaar/platform";
import { bearer, createTestSigner, dropServiceDatabase, eventually, passingInConsul, serviceDatabaseUrl, testEnv, uniqueName, perFile, type FileHooks } from "@bazaar/platform/testing";
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

export interface Mesh {
  names: { catalog: string; inventory: string; promotion: string; cart: string; shipping: string };
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

const cartToken = (token: string | undefined): Interceptor => (next) => (request) => {
  if (token) request.header.set(CART_TOKEN_HEADER, token);
  return next(request);
};

/** Starts catalog, inventory, promotion and cart for one test; all stopped and their databases dropped at teardown. */
export async function startMesh(t: { teardown(fn: () => Promise<void> | void): void }, options: MeshOptions = {}): Promise<Mesh> {
  const names = { catalog: uniqueName("catalog"), inventory: uniqueName("inventory"), promotion: uniqueName("promotion"), cart: uniqueName("cart"), shipping: uniqueName("shipping") };
  const signer = await createTestSigner();
  const { verifier } = signer;
  const started: RunningService[] = [];
  let pool: pg.Pool | undefined;
  t.teardown(async () => {
    await pool?.end();
    await Promise.all(started.map((s) => s.stop()));
    await Promise.all(Object.values(names).map((name) => dropServiceDatabase(name)));
  });
  const platformConfig = loadConfig(platformConfigSchema, testEnv);
  const promotionConfig = loadConfig(promotionConfigSchema, { ...testEnv, DB_POOL_SIZE: "2" });
  started.push(
    ...(await Promise.all([
      createService(catalog({ name: names.catalog, followStock: false }), { config: platformConfig, verifier }),
      createService(inventory({ name: names.inventory }), { config: platformConfig, verifier }),
      // Two connections: each test file starts a mesh, and the server's connections are shared.
      createService(promotion({ config: promotionConfig, name: names.promotion, followOrders: false }), { config: promotionConfig, verifier }),
    ])),
  );
  const shippingConfig = loadConfig(shippingConfigSchema, { ...testEnv, DB_POOL_SIZE: "2" });
  const shippingService = await createService(shipping({ config: shippingConfig, name: names.shipping }), { config: shippingConfig, verifier });
  started.push(shippingService);
  await seedShipping(shippingService.runtime.database);
  let sweeper: Sweep | undefined;
  const config = loadConfig(cartConfigSchema, { ...testEnv, ...options.env });
  const cartService = await createService(
    cart({ config, name: names.cart, onSweeper: (s) => (sweeper = s) }),
    {
      config,
      verifier,
      serviceCredentials: { token: () => signer.token({ subject: "cart", service: true }) },
      upstreams: { catalog: names.catalog, inventory: names.inventory, shipping: names.shipping, promotion: names.promotion },
    },
  );
  started.push(cartService);
  await Promise.all([names.catalog, names.inventory, names.shipping, names.promotion].map((name) => passingInConsul(name, { consulAddr: config.CONSUL_HTTP_ADDR })));

  const grpc = (service: RunningService, interceptors: Interceptor[]) => createGrpcTransport({ baseUrl: `http://${service.address}`, interceptors });
  const adminToken = await signer.token({ subject: randomUUID(), roles: ["admin"] });
  const cartClient = (interceptors: Interceptor[]) => createClient(CartService, grpc(cartService, interceptors));
  pool = new pg.Pool({ connectionString: serviceDatabaseUrl(names.cart), max: 2 });
  return {
    names,
    catalogAdmin: createClient(CatalogService, grpc(started[0]!, [bearer(adminToken)])),
    inventoryAdmin: createClient(InventoryService, grpc(started[1]!, [bearer(adminToken)])),
    promotionAdmin: createClient(PromotionService, grpc(started[2]!, [bearer(adminToken)])),
    guest: (token) => cartClient([cartToken(token)]),
    async user(userId = randomUUID(), token?: string) {
      return Object.assign(cartClient([bearer(await signer.token({ subject: userId })), cartToken(token)]), { userId });
    },
    admin: cartClient([bearer(adminToken)]),
    service: cartClient([bearer(await signer.token({ subject: "order", service: true }))]),
    sweeper: () => sweeper!,
    async stopPromotion() {
      const running = started[2]!;
      await running.stop();
      started.splice(2, 1);
    },
    sql: async (text, params = []) => (await pool!.query(text, params)).rows,
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
