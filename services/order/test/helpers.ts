// A private mesh for the order tests: catalog, inventory, shipping (default zones), cart, payment, promotion and order
// started in-process on port 0 by @bazaar/platform/testing's startTestMesh (unique Consul names and databases, one
// test signer, each service with its own service token), typed clients for each kind of caller, builders of
// products (catalog admin RPCs), stock (inventory ReceiveStock) and filled carts, and direct reads of every
// service's database.
import { randomBytes, randomUUID } from "node:crypto";
import { Code, ConnectError, type Client, type Interceptor } from "@connectrpc/connect";
import { createTokenVerifier, type RunningService, type TokenVerifier } from "@bazaar/platform";
import { bearer, cartToken, clientAt, eventually, meshService, passingInConsul, perFile, readStream, startTestMesh, testEnv, type FileHooks, type MeshService as TestMeshService, type TestSigner } from "@bazaar/platform/testing";
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
/** Every service the mesh names: those it starts, identity (withIdentity) and returns (a returns mesh, see returns' helpers). */
export type MeshKey = MeshService | "shipping" | "promotion" | "identity" | "returns";
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
  /** Services started after order, e.g. returns (see returns' helpers). */
  after?: Partial<Record<"returns", TestMeshService>>;
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
  names: Readonly<Record<MeshKey, string>>;
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
  /** The mesh underneath, for services started after order (returns). */
  testMesh: TestMesh;
}

/** The mesh as startTestMesh gives it, by this mesh's keys. */
export type TestMesh = Awaited<ReturnType<typeof startTestMesh<MeshKey>>>;

/**
 * The services' environment: small connection pools, so that parallel test files (each with a whole
 * mesh) stay within the server's max_connections (100 on a stock PostgreSQL).
 */
export const meshEnv: NodeJS.ProcessEnv = { ...testEnv, DB_POOL_SIZE: "4" };

/** Waits until Consul reports a passing instance of `name`. */
export const passing = (consulAddr: string, name: string) => passingInConsul(name, { consulAddr });

/** Starts the mesh for one test file; everything stopped and every database dropped at teardown. */
export async function startMesh(t: { teardown(fn: () => Promise<void> | void): void }, options: MeshOptions = {}): Promise<Mesh> {
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
  // Two connections: the mesh stays within the shared server's connections (promotion keeps one free of its checkout work).
  const small = { DB_POOL_SIZE: "2" };
  const mesh = await startTestMesh<MeshKey>(t, {
    env: options.natsUrl ? { ...meshEnv, NATS_URL: options.natsUrl } : meshEnv,
    named: options.withoutOrder ? ["order"] : [],
    // The test signer's tokens (services, staff) and identity's (signed-in accounts) both verify.
    verifier: options.withIdentity
      ? (m) => {
          let identityTokens: TokenVerifier | undefined;
          const ofIdentity = () => (identityTokens ??= createTokenVerifier({ jwksUrl: `http://${m.service("identity").address}/.well-known/jwks.json`, issuer: "bazaar-identity", audience: "bazaar" }));
          return { verify: (token) => m.signer.verifier.verify(token).catch(() => ofIdentity().verify(token)) };
        }
      : undefined,
    stages: [
      options.withIdentity
        ? {
            identity: meshService({
              configSchema: identityConfigSchema,
              // Identity gathers a user's data from the mesh's holders of personal data (returns and notification are not in it).
              env: { IDENTITY_PERSONAL_DATA_HOLDERS: "order,catalog,cart,shipping,promotion,payment" },
              define: (name, config) => identity({ config, name }),
              calls: ["order", "catalog", "cart", "shipping", "promotion", "payment"],
              own: (definition) => ({ verifier: definition.verifier, serviceCredentials: definition.serviceCredentials }),
            }),
          }
        : {},
      {
        shipping: meshService({ configSchema: shippingConfigSchema, env: small, define: (name, config) => shipping({ config, name }), ready: (s) => seedShipping(s.runtime.database) }),
        catalog: meshService({ define: (name) => catalog({ name, followStock: false }) }),
        inventory: meshService({ define: (name) => inventory({ name }) }),
        cart: meshService({
          configSchema: cartConfigSchema,
          env: { CART_CURRENCIES: "USD,EUR" },
          define: (name, config) => cart({ config, name }),
          calls: ["catalog", "inventory", "shipping", "promotion"],
        }),
        payment: meshService({ configSchema: paymentConfigSchema, env: options.paymentEnv, define: (name, config) => payment({ config, name }) }),
        promotion: meshService({ configSchema: promotionConfigSchema, env: small, define: (name, config) => promotion({ config, name, followOrders: false }) }),
      },
      options.withoutOrder
        ? {}
        : {
            order: meshService({
              configSchema: orderConfigSchema,
              env: { ORDER_SAGA_LEASE_MS: "5000", ...options.orderEnv },
              define: (name, config) => order({ config, name, onRecovery: (r) => (recovery = r), wrapSteps }),
              calls: ["cart", "inventory", "payment", "identity", "promotion"],
            }),
          },
      options.after ?? {},
    ],
  });

  const { signer } = mesh;
  const adminToken = await signer.token({ subject: randomUUID(), roles: ["customer", "admin"] });
  const serviceToken = await signer.token({ subject: "returns", service: true });
  const orderClient = (...interceptors: Interceptor[]) => mesh.client(OrderService, "order", ...interceptors);
  const cartClient = (...interceptors: Interceptor[]) => mesh.client(CartService, "cart", ...interceptors);
  const admin = bearer(adminToken);
  return {
    async signIn(email) {
      const client = mesh.client(IdentityService, "identity");
      const password = `pw-${randomUUID()}`;
      const { user } = await client.register({ email, password, displayName: "Order Tester" });
      const { tokens } = await client.login({ email, password });
      return { userId: user!.id, token: tokens!.accessToken };
    },
    hooks,
    names: mesh.names,
    signer,
    order: options.withoutOrder ? undefined : mesh.service("order"),
    identity: options.withIdentity ? mesh.service("identity") : undefined,
    recovery: () => recovery!,
    async outage(service) {
      await mesh.stop(service);
      return { end: async () => void (await mesh.restart(service)) };
    },
    // Clients of the mesh follow a restarted service (after an outage) to its new address.
    catalogAdmin: mesh.client(CatalogService, "catalog", admin),
    inventoryAdmin: mesh.client(InventoryService, "inventory", admin),
    shippingAdmin: mesh.client(ShippingService, "shipping", admin),
    promotionAdmin: mesh.client(PromotionService, "promotion", admin),
    paymentAdmin: mesh.client(PaymentService, "payment", admin),
    orders: {
      guest: (token) => orderClient(cartToken(token)),
      user: async (userId) => orderClient(bearer(await signer.token({ subject: userId }))),
      withToken: (token) => orderClient(bearer(token)),
      admin: orderClient(admin),
      service: orderClient(bearer(serviceToken)),
    },
    carts: {
      guest: (token) => cartClient(cartToken(token)),
      user: async (userId) => cartClient(bearer(await signer.token({ subject: userId }))),
      withToken: (token) => cartClient(bearer(token)),
    },
    sql: (service, text, params) => mesh.sql(service, text, params),
    service: (name) => mesh.service(name),
    ordersAt: (address) => ({ admin: clientAt(OrderService, address, admin), guest: (token) => clientAt(OrderService, address, cartToken(token)) }),
    testMesh: mesh,
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
