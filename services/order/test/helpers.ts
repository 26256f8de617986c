// A private mesh for the order tests: catalog, inventory, shipping (default zones), cart, payment and order started in-process
// on port 0 with unique Consul names and databases and one test signer (each service with its own
// service token), typed clients for each kind of caller, builders of products (catalog admin RPCs),
// stock (inventory ReceiveStock) and filled carts, and direct reads of every service's database.
import { randomBytes, randomUUID } from "node:crypto";
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { CART_TOKEN_HEADER, createService, createTokenVerifier, loadConfig, platformConfigSchema, type RunningService, type TokenVerifier } from "@bazaar/platform";
import { bearer, createTestSigner, dropServiceDatabase, eventually, passingInConsul, readStream, serviceDatabaseUrl, testEnv, uniqueName, type TestSigner, perFile, type FileHooks } from "@bazaar/platform/testing";
import { CartService } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { CatalogService, ProductStatus } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { OrderService, type PlaceOrderRequest } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { PaymentService } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { ShippingService } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import type { PostalAddressSchema } from "@bazaar/contracts/bazaar/type/v1/postal_address_pb";
import { fromBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { PlaceOrderRequestSchema } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { catalog } from "@bazaar/catalog";
import { identity, identityConfigSchema } from "@bazaar/identity";
import { inventory } from "@bazaar/inventory";
import { cart, cartConfigSchema } from "@bazaar/cart";
import { payment, paymentConfigSchema } from "@bazaar/payment";
import { seedShipping, shipping, shippingConfigSchema } from "@bazaar/shipping";
import { PromotionService } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { promotion, promotionConfigSchema } from "@bazaar/promotion";
import { order, orderConfigSchema, type Recovery } from "../src/index.ts";
import type { OrderRecord } from "../src/orders.ts";
import type { AuthorizeOutcome, SagaSteps } from "../src/saga-steps.ts";

export { Code, eventually };

type OrderClient = Client<typeof OrderService>;
/** The services a mesh always starts in-process (order unless withoutOrder). */
export type MeshService = "catalog" | "inventory" | "cart" | "payment" | "order";
type CartClient = Client<typeof CartService>;

export interface MeshOptions {
  /** Order variables over the test defaults. */
  orderEnv?: Record<string, string>;
  /** Payment variables over the test defaults. */
  paymentEnv?: Record<string, string>;
  /** Do not start the order service in-process (a test runs it as a child process). */
  withoutOrder?: boolean;
  /** Start identity too; every service then also accepts identity's tokens (see signIn). */
  withIdentity?: boolean;
  /** The NATS every service connects to (e.g. a private nats-server a test stops). Default: the test environment's. */
  natsUrl?: string;
}

/** Test hooks the order service's saga calls before its real steps, per cart (tests of one file share a mesh). */
export interface StepHooks {
  beforeReserve?(order: OrderRecord): Promise<void>;
  /** Answers AuthorizePayment instead of the payment service when it returns an outcome. */
  authorize?(order: OrderRecord): Promise<AuthorizeOutcome | undefined>;
}

export interface Mesh {
  /** Registers an account with identity (withIdentity) and signs it in: its id and access token. */
  signIn(email: string): Promise<{ userId: string; token: string }>;
  /** Hooks by cart id. */
  hooks: Map<string, StepHooks>;
  names: { catalog: string; inventory: string; cart: string; payment: string; order: string; shipping: string; promotion: string };
  signer: TestSigner;
  order: RunningService | undefined;
  /** The identity service (withIdentity). */
  identity: RunningService | undefined;
  recovery(): Recovery;
  catalogAdmin: Client<typeof CatalogService>;
  inventoryAdmin: Client<typeof InventoryService>;
  paymentAdmin: Client<typeof PaymentService>;
  shippingAdmin: Client<typeof ShippingService>;
  promotionAdmin: Client<typeof PromotionService>;
  /** Order clients: a guest (with a cart token), a signed-in user, an admin, a service. */
  orders: {
    guest(cartToken?: string): OrderClient;
    user(userId: string): Promise<OrderClient>;
    /** With a bearer token as given (e.g. identity's). */
    withToken(token: string): OrderClient;
    admin: OrderClient;
    service: OrderClient;
  };
  /** Cart clients: a guest (with a cart token) or a signed-in user. */
  carts: {
    guest(cartToken?: string): CartClient;
    user(userId: string): Promise<CartClient>;
    withToken(token: string): CartClient;
  };
  /** SQL against one service's own database. */
  sql<T extends Record<string, unknown>>(service: "order" | "payment" | "inventory" | "cart" | "catalog" | "shipping" | "promotion", text: string, params?: unknown[]): Promise<T[]>;
  /** The running instance of one of the in-process services (its address for /readyz and /metrics). */
  service(name: MeshService): RunningService;
  /**
   * Stops one of the in-process services (deregistered from Consul, drained, closed) until `end()`
   * starts it again on the same database and Consul name (a restart).
   */
  outage(service: "catalog" | "payment"): Promise<{ end(): Promise<void> }>;
  /** Order clients of an order service at another address (a child process). */
  ordersAt(address: string): { admin: OrderClient; guest(cartToken?: string): OrderClient };
}

const cartTokenHeader = (token: string | undefined): Interceptor => (next) => (request) => {
  if (token) request.header.set(CART_TOKEN_HEADER, token);
  return next(request);
};

/**
 * The services' environment: small connection pools, so that parallel test files (each with a whole
 * mesh) stay within the server's max_connections (100 on a stock PostgreSQL).
 */
export const meshEnv: NodeJS.ProcessEnv = { ...testEnv, DB_POOL_SIZE: "4" };

const grpc = (address: string, interceptors: Interceptor[]) => createGrpcTransport({ baseUrl: `http://${address}`, interceptors });

/** Waits until Consul reports a passing instance of `name`. */
export const passing = (consulAddr: string, name: string) => passingInConsul(name, { consulAddr });

/** Starts the mesh for one test file; everything stopped and every database dropped at teardown. */
export async function startMesh(t: { teardown(fn: () => Promise<void> | void): void }, options: MeshOptions = {}): Promise<Mesh> {
  const names = {
    catalog: uniqueName("catalog"),
    inventory: uniqueName("inventory"),
    cart: uniqueName("cart"),
    payment: uniqueName("payment"),
    order: uniqueName("order"),
    identity: uniqueName("identity"),
    shipping: uniqueName("shipping"),
    promotion: uniqueName("promotion"),
  };
  const env: NodeJS.ProcessEnv = options.natsUrl ? { ...meshEnv, NATS_URL: options.natsUrl } : meshEnv;
  const signer = await createTestSigner();
  let verifier: TokenVerifier = signer.verifier;
  let identityService: RunningService | undefined;
  if (options.withIdentity) {
    // Identity gathers a user's data from the mesh's holders of personal data (returns and notification are not in it).
    const identityConfig = loadConfig(identityConfigSchema, { ...env, IDENTITY_PERSONAL_DATA_HOLDERS: "order,catalog,cart,shipping,promotion,payment" });
    const definition = identity({ config: identityConfig, name: names.identity });
    identityService = await createService(definition, {
      config: identityConfig,
      verifier: definition.verifier,
      serviceCredentials: definition.serviceCredentials,
      upstreams: { order: names.order, catalog: names.catalog, cart: names.cart, shipping: names.shipping, promotion: names.promotion, payment: names.payment },
    });
    const identityTokens = createTokenVerifier({ jwksUrl: `http://${identityService.address}/.well-known/jwks.json`, issuer: "bazaar-identity", audience: "bazaar" });
    // The test signer's tokens (services, staff) and identity's (signed-in accounts) both verify.
    verifier = { verify: (token) => signer.verifier.verify(token).catch(() => identityTokens.verify(token)) };
  }
  const credentials = (subject: string) => ({ token: () => signer.token({ subject, service: true }) });
  const started: RunningService[] = [];
  const pools = new Map<string, pg.Pool>();
  t.teardown(async () => {
    await Promise.all([...pools.values()].map((pool) => pool.end()));
    await Promise.all(started.reverse().map((s) => s.stop()));
    await Promise.all(Object.values(names).map((name) => dropServiceDatabase(name)));
  });
  const platformConfig = loadConfig(platformConfigSchema, env);
  const cartConfig = loadConfig(cartConfigSchema, { ...env, CART_CURRENCIES: "USD,EUR" });
  const shippingConfig = loadConfig(shippingConfigSchema, { ...env, DB_POOL_SIZE: "2" });
  const paymentConfig = loadConfig(paymentConfigSchema, { ...env, ...options.paymentEnv });
  // Two connections: the mesh stays within the shared server's connections (promotion keeps one free of its checkout work).
  const promotionConfig = loadConfig(promotionConfigSchema, { ...env, DB_POOL_SIZE: "2" });
  const starters = {
    catalog: () => createService(catalog({ name: names.catalog, followStock: false }), { config: platformConfig, verifier, serviceCredentials: credentials("catalog") }),
    payment: () => createService(payment({ config: paymentConfig, name: names.payment }), { config: paymentConfig, verifier, serviceCredentials: credentials("payment") }),
  };
  if (identityService) started.push(identityService);
  // Every service that did start is stopped at teardown even when another one failed to (e.g. the
  // server out of connections): left running, its pool would meet the forced drop of its database.
  const settled = await Promise.allSettled([
    createService(shipping({ config: shippingConfig, name: names.shipping }), { config: shippingConfig, verifier }).then(async (s) => {
      await seedShipping(s.runtime.database);
      return s;
    }),
    starters.catalog(),
    createService(inventory({ name: names.inventory }), { config: platformConfig, verifier, serviceCredentials: credentials("inventory") }),
    createService(cart({ config: cartConfig, name: names.cart }), {
      config: cartConfig,
      upstreams: { catalog: names.catalog, inventory: names.inventory, shipping: names.shipping, promotion: names.promotion },
      verifier,
      serviceCredentials: credentials("cart"),
    }),
    starters.payment(),
    createService(promotion({ config: promotionConfig, name: names.promotion, followOrders: false }), { config: promotionConfig, verifier, serviceCredentials: credentials("promotion") }),
  ]);
  for (const result of settled) if (result.status === "fulfilled") started.push(result.value);
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  const [shippingService, catalogService, inventoryService, cartService, paymentService, promotionService] = settled.map((result) => (result as PromiseFulfilledResult<RunningService>).value);
  const running = { catalog: catalogService!, payment: paymentService! };

  let recovery: Recovery | undefined;
  const hooks = new Map<string, StepHooks>();
  const wrapSteps = (steps: SagaSteps): SagaSteps => ({
    ...steps,
    async reserveStock(o, ttl) {
      await hooks.get(o.cartId)?.beforeReserve?.(o);
      return steps.reserveStock(o, ttl);
    },
    async authorize(o) {
      return (await hooks.get(o.cartId)?.authorize?.(o)) ?? steps.authorize(o);
    },
  });
  let orderService: RunningService | undefined;
  if (!options.withoutOrder) {
    const orderConfig = loadConfig(orderConfigSchema, { ...env, ORDER_SAGA_LEASE_MS: "5000", ...options.orderEnv });
    orderService = await createService(
      order({
        config: orderConfig,
        name: names.order,
        onRecovery: (r) => (recovery = r),
        wrapSteps,
      }),
      {
        config: orderConfig,
        upstreams: { cart: names.cart, inventory: names.inventory, payment: names.payment, identity: names.identity, promotion: names.promotion },
        verifier,
        serviceCredentials: credentials("order"),
      },
    );
    started.push(orderService);
  }
  const upstreams = [names.shipping, names.catalog, names.inventory, names.cart, names.payment, names.promotion, ...(identityService ? [names.identity] : [])];
  await Promise.all(upstreams.map((name) => passing(platformConfig.CONSUL_HTTP_ADDR, name)));

  const adminToken = await signer.token({ subject: randomUUID(), roles: ["customer", "admin"] });
  const serviceToken = await signer.token({ subject: "returns", service: true });
  const orderClient = (address: string, interceptors: Interceptor[]) => createClient(OrderService, grpc(address, interceptors));
  const orderAddress = orderService?.address ?? "127.0.0.1:1";
  const adminClients = new Map<string, unknown>();
  const adminClient = <S extends typeof CatalogService | typeof PaymentService>(service: S, address: string): Client<S> => {
    const key = `${service.typeName} ${address}`;
    if (!adminClients.has(key)) adminClients.set(key, createClient(service, grpc(address, [bearer(adminToken)])));
    return adminClients.get(key) as Client<S>;
  };
  const pool = (service: keyof Mesh["names"]) => {
    let p = pools.get(service);
    if (!p) {
      pools.set(service, (p = new pg.Pool({ connectionString: serviceDatabaseUrl(names[service]), max: 2 })));
      p.on("error", () => undefined); // idle connections cut when a database is dropped at teardown
    }
    return p;
  };
  return {
    async signIn(email) {
      const client = createClient(IdentityService, grpc(identityService!.address, []));
      const password = `pw-${randomUUID()}`;
      const { user } = await client.register({ email, password, displayName: "Order Tester" });
      const { tokens } = await client.login({ email, password });
      return { userId: user!.id, token: tokens!.accessToken };
    },
    hooks,
    names,
    signer,
    order: orderService,
    identity: identityService,
    recovery: () => recovery!,
    async outage(service) {
      const stopped = running[service];
      await stopped.stop();
      started.splice(started.indexOf(stopped), 1);
      return {
        async end() {
          running[service] = await starters[service]();
          started.push(running[service]);
          await passing(platformConfig.CONSUL_HTTP_ADDR, names[service]);
        },
      };
    },
    // Getters: after an outage the service is at another address.
    get catalogAdmin() {
      return adminClient(CatalogService, running.catalog.address);
    },
    inventoryAdmin: createClient(InventoryService, grpc(inventoryService!.address, [bearer(adminToken)])),
    shippingAdmin: createClient(ShippingService, grpc(shippingService!.address, [bearer(adminToken)])),
    promotionAdmin: createClient(PromotionService, grpc(promotionService!.address, [bearer(adminToken)])),
    get paymentAdmin() {
      return adminClient(PaymentService, running.payment.address);
    },
    orders: {
      guest: (token) => orderClient(orderAddress, [cartTokenHeader(token)]),
      user: async (userId) => orderClient(orderAddress, [bearer(await signer.token({ subject: userId }))]),
      withToken: (token) => orderClient(orderAddress, [bearer(token)]),
      admin: orderClient(orderAddress, [bearer(adminToken)]),
      service: orderClient(orderAddress, [bearer(serviceToken)]),
    },
    carts: {
      guest: (token) => createClient(CartService, grpc(cartService!.address, [cartTokenHeader(token)])),
      user: async (userId) => createClient(CartService, grpc(cartService!.address, [bearer(await signer.token({ subject: userId }))])),
      withToken: (token) => createClient(CartService, grpc(cartService!.address, [bearer(token)])),
    },
    sql: async (service, text, params = []) => (await pool(service).query(text, params)).rows,
    service(name) {
      const instance = { ...running, inventory: inventoryService!, cart: cartService!, order: orderService }[name];
      if (!instance) throw new Error(`the mesh runs no ${name} in-process`);
      return instance;
    },
    ordersAt: (address) => ({ admin: orderClient(address, [bearer(adminToken)]), guest: (token) => orderClient(address, [cartTokenHeader(token)]) }),
  };
}

/** One mesh shared by the tests of a file (each test uses its own products, carts and users). */
export const meshPerFile = (test: FileHooks, options: MeshOptions = {}): (() => Mesh) => perFile(test, (teardown) => startMesh({ teardown }, options));

/** A product with one variant priced `price` USD minor units and `stock` units received; returns its SKU. */
export async function sellable(mesh: Mesh, spec: { price?: number; stock?: number } = {}): Promise<string> {
  const tag = randomBytes(4).toString("hex");
  const { category } = await mesh.catalogAdmin.createCategory({ category: { name: "Things", slug: `things-${tag}` } });
  const sku = `SKU-${tag.toUpperCase()}`;
  await mesh.catalogAdmin.createProduct({
    product: {
      slug: `thing-${tag}`,
      name: `Thing ${tag}`,
      categoryId: category!.id,
      status: ProductStatus.ACTIVE,
      variants: [{ sku, options: { colour: "blue" }, prices: [{ currencyCode: "USD", amountMinor: BigInt(spec.price ?? 1000) }] }],
    },
  });
  if ((spec.stock ?? 100) > 0) await mesh.inventoryAdmin.receiveStock({ sku, quantity: BigInt(spec.stock ?? 100) });
  return sku;
}

/** A guest cart holding `items`; returns its id and token. */
export async function guestCart(mesh: Mesh, items: { sku: string; quantity: number }[]): Promise<{ cartId: string; token: string }> {
  const created = await mesh.carts.guest().createCart({ currencyCode: "USD" });
  const token = created.cartToken;
  const client = mesh.carts.guest(token);
  for (const item of items) await client.addCartItem({ cartId: created.cart!.id, sku: item.sku, quantity: item.quantity });
  return { cartId: created.cart!.id, token };
}

/** A signed-in user's active cart holding `items`; returns its id. */
export async function userCart(mesh: Mesh, userId: string, items: { sku: string; quantity: number }[]): Promise<string> {
  const client = await mesh.carts.user(userId);
  const { cart: created } = await client.createCart({ currencyCode: "USD" });
  for (const item of items) await client.addCartItem({ cartId: created!.id, sku: item.sku, quantity: item.quantity });
  return created!.id;
}

export const address = (overrides: Partial<MessageInitShape<typeof PostalAddressSchema>> = {}): MessageInitShape<typeof PostalAddressSchema> => ({
  recipientName: "Ada Lovelace",
  line1: "1 Analytical Way",
  city: "Springfield",
  region: "IL",
  postalCode: "62701",
  countryCode: "US",
  ...overrides,
}) as MessageInitShape<typeof PostalAddressSchema>;

/** A PlaceOrder request for a guest cart with a fresh idempotency key. */
export function placeRequest(cartId: string, overrides: Partial<MessageInitShape<typeof PlaceOrderRequestSchema>> = {}): MessageInitShape<typeof PlaceOrderRequestSchema> {
  return {
    cartId,
    shippingAddress: address(),
    shippingOptionId: "standard",
    paymentMethod: "pm_test_ok",
    email: "buyer@example.com",
    idempotencyKey: `key-${randomUUID()}`,
    ...overrides,
  } as MessageInitShape<typeof PlaceOrderRequestSchema>;
}

export type PlaceRequest = PlaceOrderRequest;

export { failure } from "@bazaar/platform/testing";

/** On hand and reserved of a SKU (default location), from the inventory's database. */
export async function stockOf(mesh: Mesh, sku: string): Promise<{ onHand: number; reserved: number }> {
  const [row] = await mesh.sql<{ on_hand: string; reserved: string }>("inventory", "select on_hand, reserved from stock_level where sku = $1", [sku]);
  return { onHand: Number(row?.on_hand ?? 0), reserved: Number(row?.reserved ?? 0) };
}

/** The order's payment as the payment service records it (undefined when it has none). */
export async function paymentOf(mesh: Mesh, orderId: string) {
  try {
    return (await mesh.paymentAdmin.getPayment({ orderId })).payment;
  } catch (error) {
    if (ConnectError.from(error).code === Code.NotFound) return undefined;
    throw error;
  }
}

/** Waits for the first event on `subject` (published since `since`) that `match`es; fails after 20 s. */
export async function eventOnStream<Desc extends DescMessage>(
  stream: string,
  subject: string,
  schema: Desc,
  since: Date,
  match: (event: MessageShape<Desc>) => boolean,
): Promise<{ event: MessageShape<Desc>; msgId: string }> {
  const [found] = await readStream({
    stream,
    subject,
    since: new Date(since.getTime() - 1000),
    what: `a matching ${schema.typeName} on ${subject}`,
    pick: ({ data, msgId }) => {
      const event = fromBinary(schema, data);
      return match(event) ? { event, msgId } : undefined;
    },
  });
  return found!;
}
