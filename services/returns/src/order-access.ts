// The order service is the authority on who may see an order: a return's order is read with the
// caller's own rights (a signed-in customer's token, a guest's cart token), so a stranger meets the
// order's NOT_FOUND here too. Staff and the service's own steps read it with the service's token.
import {
  ADMIN_ROLE,
  CART_TOKEN_HEADER,
  clientFor,
  closeClient,
  currentPrincipal,
  dependencyUnavailable,
  failureOf,
  isServiceOrRole,
  NotFoundError,
  upstreamName,
  type ServiceRuntime,
} from "@bazaar/platform";
import { Code, type Client, type HandlerContext } from "@connectrpc/connect";
import { OrderService, type Order } from "@bazaar/contracts/bazaar/order/v1/order_pb";

export interface OrderAccess {
  /** The order as the current caller may see it; NOT_FOUND when unknown or theirs not to see. */
  asCaller(orderId: string, context: HandlerContext): Promise<Order>;
  /** The order on the service's own authority (staff requests, refunds, the reconciler). */
  asService(orderId: string): Promise<Order>;
  /** The order client on the service's own authority. */
  readonly service: Client<typeof OrderService>;
  /** Closes the guests' client (the runtime closes its own). */
  close(): void;
}

export function createOrderAccess(runtime: ServiceRuntime): OrderAccess {
  const service = runtime.serviceClientFor(OrderService);
  const user = runtime.clientFor(OrderService);
  // A guest's call carries no token: the runtime's clients would add the service's own, which sees
  // every order, so guests go through a client without credentials and prove the cart with its token.
  const anonymous = clientFor(OrderService, { consulAddr: runtime.config.CONSUL_HTTP_ADDR, serviceName: upstreamName(OrderService, runtime.config.UPSTREAMS ?? {}) });

  async function read(client: Client<typeof OrderService>, orderId: string, headers: Record<string, string>): Promise<Order> {
    try {
      const { order } = await client.getOrder({ orderId }, { headers });
      return order!;
    } catch (error) {
      const { code } = failureOf(error);
      if (code === Code.NotFound || code === Code.PermissionDenied || code === Code.Unauthenticated) throw new NotFoundError(`order ${orderId} not found`);
      throw dependencyUnavailable("order", error);
    }
  }

  return {
    service,
    close: () => closeClient(anonymous),
    asService: (orderId) => read(service, orderId, {}),
    asCaller(orderId, context) {
      const principal = currentPrincipal();
      if (isServiceOrRole(principal, ADMIN_ROLE)) return read(service, orderId, {});
      const cartToken = context.requestHeader.get(CART_TOKEN_HEADER) ?? "";
      const headers: Record<string, string> = cartToken ? { [CART_TOKEN_HEADER]: cartToken } : {};
      return read(principal ? user : anonymous, orderId, headers);
    },
  };
}
