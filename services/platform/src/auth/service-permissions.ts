// Least privilege between services: the one table of which service may call which RPC with its own
// service token. The called service checks it from the token's subject (servicePermissionsInterceptor);
// a service token for a method its subject is not listed under is refused, whatever the handler would
// say. Users' tokens forwarded by a service are not concerned: the callee checks the user's rights.
import type { DescMethod } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { CartService } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { CatalogService } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { OrderService } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { PaymentService } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { PersonalDataService } from "@bazaar/contracts/bazaar/privacy/v1/personal_data_service_pb";
import { PromotionService } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { ShippingService } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import { currentCall } from "../call-context.ts";
import { PermissionDeniedError } from "../errors.ts";

/** Calling service (the service token's subject) → the methods it may call on its own authority. */
export type ServicePermissionTable = Readonly<Record<string, readonly DescMethod[]>>;

/**
 * What each service of the mesh calls with its own token, and nothing more. Services absent here
 * (catalog, inventory, payment, shipping, promotion, notification) make no such calls: they only
 * answer and react to events.
 */
export const SERVICE_PERMISSIONS: ServicePermissionTable = {
  // A user's download of their data: identity gathers each holding service's part, and no one else may.
  identity: [PersonalDataService.method.exportPersonalData],
  // Pricing and stock for cart lines, shipping quotes and promotions while a cart is read or prepared.
  cart: [
    CatalogService.method.batchGetVariants,
    InventoryService.method.batchGetStockLevels,
    ShippingService.method.quoteShipping,
    ShippingService.method.checkShippingQuote,
    PromotionService.method.evaluateCart,
  ],
  // The checkout saga and its recovery: the only service that holds stock and moves money for an order.
  order: [
    CartService.method.getCart,
    CartService.method.prepareCheckout,
    CartService.method.completeCart,
    IdentityService.method.getUser,
    InventoryService.method.reserveStock,
    InventoryService.method.commitReservation,
    InventoryService.method.releaseReservation,
    InventoryService.method.restockReservation,
    PaymentService.method.authorizePayment,
    PaymentService.method.capturePayment,
    PaymentService.method.voidPayment,
    PaymentService.method.refundPayment,
    PaymentService.method.getPayment,
    PromotionService.method.redeemPromotions,
    PromotionService.method.releasePromotions,
  ],
  // Returns refund through the order (which refunds the payment), reading the order they belong to;
  // put received resellable units back in stock; buy the shopper's return label.
  returns: [OrderService.method.getOrder, OrderService.method.refundOrder, InventoryService.method.adjustStock, ShippingService.method.buyReturnLabel],
};

/** "bazaar.payment.v1.PaymentService/CapturePayment": how methods are named in the table and in errors. */
export const procedureName = (method: Pick<DescMethod, "name" | "parent">): string => `${method.parent.typeName}/${method.name}`;

/** Whether `service` may call `procedure` (see procedureName) with its own token, by `table`. */
export type ServicePermissionCheck = (service: string, procedure: string) => boolean;

export function servicePermissionCheck(table: ServicePermissionTable = SERVICE_PERMISSIONS): ServicePermissionCheck {
  const allowed = new Map(Object.entries(table).map(([service, methods]) => [service, new Set(methods.map(procedureName))]));
  return (service, procedure) => allowed.get(service)?.has(procedure) ?? false;
}

/**
 * A SERVER interceptor, after authInterceptor: a call with a service token goes on only when the table
 * lists its subject for this method; otherwise PermissionDeniedError naming the service and the method
 * (reason SERVICE_NOT_PERMITTED). Calls by users and anonymous calls pass untouched.
 */
export function servicePermissionsInterceptor(table: ServicePermissionTable = SERVICE_PERMISSIONS): Interceptor {
  const permitted = servicePermissionCheck(table);
  return (next) => async (req) => {
    const principal = currentCall()?.principal;
    if (principal?.kind === "service") {
      const procedure = procedureName(req.method);
      if (!permitted(principal.subject, procedure)) {
        throw new PermissionDeniedError(`the ${principal.subject} service may not call ${procedure}`, { reason: "SERVICE_NOT_PERMITTED" });
      }
    }
    return next(req);
  };
}
