// The returns tests' mesh: the order tests' mesh (catalog, inventory, shipping, cart, payment,
// promotion and order, in-process on port 0) plus a returns service calling its order, inventory and
// shipping by their unique Consul names, typed returns clients for each kind of caller, delivered
// orders made through the real checkout, and direct reads of the returns database.
import { randomUUID } from "node:crypto";
import { type Client, type Interceptor } from "@connectrpc/connect";
import type { RunningService } from "@bazaar/platform";
import { bearer, cartToken, clientAt, meshService, perFile, type FileHooks } from "@bazaar/platform/testing";
import { OrderStatus, type Order } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { ReturnsService } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { guestCart, placeRequest, startMesh, userCart, type Mesh } from "../../order/test/helpers.ts";
import { returns, returnsConfigSchema } from "../src/index.ts";

export { Code, eventually, failure, paymentOf, sellable, stockOf } from "../../order/test/helpers.ts";

type ReturnsClient = Client<typeof ReturnsService>;

export interface ReturnsMesh {
  mesh: Mesh;
  name: string;
  service: RunningService;
  /** The environment a returns process of this mesh runs with (the crash test's child). */
  env: NodeJS.ProcessEnv;
  returnsAt(address: string): { admin: ReturnsClient };
  guest(cartToken?: string): ReturnsClient;
  user(userId: string): Promise<ReturnsClient>;
  admin: ReturnsClient;
  sql<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export async function startReturnsMesh(t: { teardown(fn: () => Promise<void> | void): void }, env: Record<string, string> = {}): Promise<ReturnsMesh> {
  const mesh = await startMesh(t, {
    after: {
      returns: meshService({
        configSchema: returnsConfigSchema,
        env: { DB_POOL_SIZE: "2", RETURNS_REFUND_RETRY_MS: "200", RETURNS_RESTOCK_RETRY_MS: "200", ...env },
        define: (name, config) => returns({ config, name }),
        calls: ["order", "inventory", "shipping"],
      }),
    },
  });
  const { testMesh } = mesh;
  const adminToken = await mesh.signer.token({ subject: randomUUID(), roles: ["customer", "admin"] });
  const client = (...interceptors: Interceptor[]) => testMesh.client(ReturnsService, "returns", ...interceptors);
  return {
    mesh,
    name: testMesh.names.returns,
    service: testMesh.service("returns"),
    env: testMesh.envOf("returns"),
    returnsAt: (address) => ({ admin: clientAt(ReturnsService, address, bearer(adminToken)) }),
    guest: (token) => client(cartToken(token)),
    user: async (userId) => client(bearer(await mesh.signer.token({ subject: userId }))),
    admin: client(bearer(adminToken)),
    sql: (text, params) => testMesh.sql("returns", text, params),
  };
}

export const returnsMeshPerFile = (test: FileHooks, env: Record<string, string> = {}): (() => ReturnsMesh) => perFile(test, (teardown) => startReturnsMesh({ teardown }, env));

/** Another returns service on the same mesh (its own name and database) with `env` over the mesh's, e.g. another return window. */
export async function anotherReturns(r: ReturnsMesh, t: { teardown(fn: () => Promise<void> | void): void }, env: Record<string, string>): Promise<{ guest(cartToken?: string): ReturnsClient }> {
  const service = await r.mesh.testMesh.another("returns", env, (fn) => t.teardown(fn));
  return { guest: (token) => clientAt(ReturnsService, service.address, cartToken(token)) };
}

/** Walks a paid order through fulfilment to DELIVERED as staff would (the shipping service's parcels do it in production). */
export async function deliver(mesh: Mesh, orderId: string): Promise<Order> {
  let order: Order | undefined;
  for (const status of [OrderStatus.FULFILLING, OrderStatus.SHIPPED, OrderStatus.DELIVERED]) {
    order = (await mesh.orders.admin.updateOrderStatus({ orderId, status })).order;
  }
  return order!;
}

/** A guest's delivered order of `items`: the order and the cart token that proves it. */
export async function deliveredGuestOrder(mesh: Mesh, items: { sku: string; quantity: number }[]): Promise<{ order: Order; token: string }> {
  const cart = await guestCart(mesh, items);
  const { order } = await mesh.orders.guest(cart.token).placeOrder(placeRequest(cart.cartId));
  if (order!.status !== OrderStatus.CONFIRMED) throw new Error(`checkout ended ${OrderStatus[order!.status]}`);
  return { order: await deliver(mesh, order!.id), token: cart.token };
}

/** A signed-in customer's delivered order of `items`. */
export async function deliveredUserOrder(mesh: Mesh, userId: string, items: { sku: string; quantity: number }[]): Promise<Order> {
  const cartId = await userCart(mesh, userId, items);
  const { order } = await (await mesh.orders.user(userId)).placeOrder(placeRequest(cartId));
  return deliver(mesh, order!.id);
}
