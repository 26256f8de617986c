// OrderService RPCs: validate (every violation at once, nothing changed), authorise, then act through
// the saga or a compare-and-set on the order, and shape the result as messages.
import {
  ADMIN_ROLE,
  AlreadyExistsError,
  CART_TOKEN_HEADER,
  checkCurrencyCode,
  checkUuid,
  ConflictError,
  currentPrincipal,
  failureOf,
  FailedPreconditionError,
  InvalidArgumentError,
  isUuid,
  publish,
  readPage,
  requireRole,
  requireServiceOrRole,
  requireUser,
  UnavailableError,
  type Database,
  type Logger,
  type ServiceRuntime,
} from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { OrderRefundedSchema, OrderStatusChangedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { OrderService } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { PaymentService } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { BadRequestSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { accessible, actorOf, isStaff } from "./access.ts";
import { etagOf, orderMessage } from "./order-message.ts";
import { listOrders, ORDERS_ORDER } from "./order-queries.ts";
import { checkTransition, FULFILMENT_STATUSES, PAID_STATUSES, statusFromWire, type Status } from "./order-status.ts";
import { addHistory, LEASE_SET, leaseValues, loadOrder, releaseLease, updateOrder, type LeaseHolder, type OrderRecord } from "./orders.ts";
import { createPlaceOrder } from "./place-order.ts";
import type { Saga } from "./saga.ts";
import { checkNote, MY_ORDERS_PAGE_SIZE, STAFF_ORDERS_PAGE_SIZE, violations } from "./validation.ts";

export interface HandlerDeps {
  runtime: ServiceRuntime;
  database: Database;
  saga: Saga;
  logger: Logger;
  leaseMs: number;
  /** Recorded on the leases this instance takes (see lease-holder.ts). */
  holder?: LeaseHolder;
}

const printable = /^[\x20-\x7e]{1,128}$/;
const cartTokenOf = (context: HandlerContext) => context.requestHeader.get(CART_TOKEN_HEADER) ?? "";

export function orderHandlers(deps: HandlerDeps): ServiceImpl<typeof OrderService> {
  const { database, saga, logger } = deps;
  const payment = deps.runtime.serviceClientFor(PaymentService);
  const placeOrder = createPlaceOrder(deps);

  const load = (id: string) => loadOrder(database.em(), id);
  const reply = async (id: string) => ({ order: orderMessage((await load(id))!) });

  /** Drives a cancellation this request holds the lease of; on a dependency failure the recovery driver goes on. */
  async function driveCancellation(order: OrderRecord): Promise<void> {
    try {
      await saga.drive(order.id);
    } catch (error) {
      await database.transaction((em) => releaseLease(em, order.id)).catch(() => undefined);
      logger.warn({ err: error, order_id: order.id }, "cancellation interrupted; left to the recovery driver");
      throw new UnavailableError(`the cancellation of order ${order.id} continues in the background; ask again to see it finished`, { cause: error });
    }
  }

  return {
    placeOrder,

    async getOrder(request, context) {
      const v = violations();
      checkUuid(v, "order_id", request.orderId);
      v.throwIfAny();
      const order = accessible(await load(request.orderId), request.orderId, currentPrincipal(), cartTokenOf(context));
      return { order: orderMessage(order) };
    },

    async listMyOrders(request) {
      const user = requireUser();
      const v = violations();
      const page = readPage(v, request, MY_ORDERS_PAGE_SIZE, { rpc: "ListMyOrders", user: user.subject }, ORDERS_ORDER);
      v.throwIfAny();
      const { rows, nextPageToken } = await listOrders(database.em(), { userId: user.subject }, page);
      return { orders: rows.map(orderMessage), nextPageToken };
    },

    async listOrders(request) {
      requireRole(ADMIN_ROLE);
      const v = violations();
      const statuses: Status[] = [];
      request.statuses.forEach((wire, i) => {
        const status = statusFromWire(wire);
        if (v.check(status, `statuses[${i}]`, "must be a known order status")) statuses.push(status!);
      });
      v.check(request.query.length <= 254, "query", "must be at most 254 characters");
      v.check(request.userId.length <= 128, "user_id", "must be at most 128 characters");
      const createdAfter = request.createdAfter ? timestampDate(request.createdAfter) : undefined;
      const createdBefore = request.createdBefore ? timestampDate(request.createdBefore) : undefined;
      if (createdAfter && createdBefore) v.check(createdAfter < createdBefore, "created_before", "must be after created_after");
      const filter = {
        ...(request.userId ? { userId: request.userId } : {}),
        ...(statuses.length ? { statuses } : {}),
        ...(request.query.trim() ? { query: request.query } : {}),
        ...(createdAfter ? { createdAfter } : {}),
        ...(createdBefore ? { createdBefore } : {}),
      };
      const page = readPage(v, request, STAFF_ORDERS_PAGE_SIZE, { rpc: "ListOrders", ...filter }, ORDERS_ORDER);
      v.throwIfAny();
      const { rows, nextPageToken } = await listOrders(database.em(), filter, page);
      return { orders: rows.map(orderMessage), nextPageToken };
    },

    async cancelOrder(request, context) {
      const principal = currentPrincipal();
      const v = violations();
      checkUuid(v, "order_id", request.orderId);
      checkNote(v, "reason", request.reason);
      v.throwIfAny();
      const order = accessible(await load(request.orderId), request.orderId, principal, cartTokenOf(context));
      if (order.status === "CANCELLED") return { order: orderMessage(order) };
      if (order.cancelActor) {
        await driveCancellation(order);
        return reply(order.id);
      }
      // Until something ships, customers and staff alike (the shipment is cancelled on OrderCancelled).
      const allowed: Status[] = ["CONFIRMED", "FULFILLING"];
      if (!allowed.includes(order.status)) {
        const why = order.status === "PENDING" ? "its checkout is still running" : `it is ${order.status}`;
        throw new FailedPreconditionError(`order ${order.id} cannot be cancelled: ${why}`, { reason: "ORDER_NOT_CANCELLABLE" });
      }
      checkTransition(order.status, "CANCELLED", order.id);
      // Persisted first: from here the refund and restock are resumable by any driver.
      const row = await database.transaction((em) =>
        updateOrder(em, order.id, {
          from: allowed,
          set: `cancel_actor = ?, cancel_reason = ?, ${LEASE_SET}`,
          values: [actorOf(principal), request.reason, ...leaseValues(deps.leaseMs, deps.holder)],
          where: "cancel_actor is null",
        }),
      );
      if (!row) throw new ConflictError(`order ${order.id} changed meanwhile; try again`, { reason: "CONCURRENT_CHANGE" });
      await driveCancellation(order);
      return reply(order.id);
    },

    async updateOrderStatus(request) {
      const staff = requireRole(ADMIN_ROLE);
      const v = violations();
      checkUuid(v, "order_id", request.orderId);
      const target = statusFromWire(request.status);
      v.check(target && FULFILMENT_STATUSES.includes(target), "status", "must be FULFILLING, SHIPPED or DELIVERED");
      checkNote(v, "note", request.note);
      v.throwIfAny();
      const order = accessible(await load(request.orderId), request.orderId, staff, "");
      if (request.etag !== "" && request.etag !== etagOf(order)) {
        throw new ConflictError(`order ${order.id} changed since etag ${request.etag}; read it again`, { reason: "STALE_ETAG" });
      }
      if (order.status === target) return { order: orderMessage(order) };
      if (order.cancelActor) throw new FailedPreconditionError(`order ${order.id} is being cancelled`, { reason: "INVALID_TRANSITION" });
      checkTransition(order.status, target!, order.id);
      const changed = await database.transaction(async (em) => {
        const row = await updateOrder(em, order.id, {
          from: [order.status],
          set: "status = ?",
          values: [target],
          where: "version = ? and cancel_actor is null",
          whereValues: [order.version],
        });
        if (!row) return false;
        const actor = actorOf(staff);
        await addHistory(em, order.id, target!, actor, request.note);
        await publish(
          em,
          OrderStatusChangedSchema,
          create(OrderStatusChangedSchema, {
            orderId: order.id,
            userId: order.userId,
            email: order.email,
            fromStatus: order.status,
            toStatus: target!,
            note: request.note,
          }),
        );
        return true;
      });
      if (!changed) throw new ConflictError(`order ${order.id} changed meanwhile; read it again`, { reason: "CONCURRENT_CHANGE" });
      return reply(order.id);
    },

    async refundOrder(request) {
      // Staff, or a service refunding on its own authority (returns refunds what came back).
      const staff = requireServiceOrRole(ADMIN_ROLE, "refunds are made by staff and services");
      const v = violations();
      checkUuid(v, "order_id", request.orderId);
      v.check(printable.test(request.refundId), "refund_id", "must be 1–128 printable characters");
      if (v.check(request.amount, "amount", "is required")) {
        v.check(request.amount!.amountMinor > 0n, "amount.amount_minor", "must be positive");
        checkCurrencyCode(v, "amount.currency_code", request.amount!.currencyCode);
      }
      checkNote(v, "reason", request.reason);
      v.throwIfAny();
      const order = accessible(await load(request.orderId), request.orderId, staff, "");
      const amount = request.amount!;
      if (amount.currencyCode !== order.currency) {
        throw new InvalidArgumentError({ field: "amount.currency_code", description: `must be the order's currency ${order.currency}` });
      }
      if (order.captured === 0n) throw new FailedPreconditionError(`order ${order.id} was never paid`, { reason: "REFUND_EXCEEDS_CAPTURED" });
      if (order.cancelActor) throw new FailedPreconditionError(`order ${order.id} is being cancelled (and refunded)`, { reason: "CANCELLATION_IN_PROGRESS" });

      let refundedTotal: bigint;
      try {
        const { payment: p } = await payment.refundPayment({ orderId: order.id, refundId: request.refundId, amount, reason: request.reason });
        refundedTotal = p!.refunded?.amountMinor ?? 0n;
      } catch (error) {
        const { code, reason, error: e } = failureOf(error);
        if (code === Code.FailedPrecondition) throw new FailedPreconditionError(e.rawMessage, { reason: reason ?? "REFUND_EXCEEDS_CAPTURED", cause: e });
        if (code === Code.AlreadyExists) throw new AlreadyExistsError(`refund ${request.refundId} was made with a different amount`, { reason: reason ?? "REFUND_ID_IN_USE", cause: e });
        if (code === Code.InvalidArgument) {
          const fields = e.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations);
          throw new InvalidArgumentError(fields.length ? fields.map((f) => ({ field: f.field, description: f.description })) : [{ field: "amount", description: e.rawMessage }]);
        }
        if (code === Code.Unavailable || code === Code.DeadlineExceeded) throw new UnavailableError("the payment service cannot be reached; nothing was refunded", { cause: e });
        throw error;
      }

      // The payment's own total is the truth; a repeated refund id changes nothing here.
      const full = refundedTotal >= order.captured;
      await database.transaction(async (em) => {
        const current = (await loadOrder(em, order.id, { forUpdate: true, history: false }))!;
        if (!PAID_STATUSES.includes(current.status) || current.refunded >= refundedTotal) return;
        if (full) checkTransition(current.status, "REFUNDED", order.id);
        await updateOrder(em, order.id, {
          from: [current.status],
          set: `refunded = ?, payment_status = ?${full ? ", status = 'REFUNDED'" : ""}`,
          values: [refundedTotal.toString(), full ? "REFUNDED" : "PARTIALLY_REFUNDED"],
        });
        if (full) await addHistory(em, order.id, "REFUNDED", actorOf(staff), request.reason);
        await publish(
          em,
          OrderRefundedSchema,
          create(OrderRefundedSchema, {
            orderId: order.id,
            amount: { amountMinor: refundedTotal - current.refunded, currencyCode: order.currency },
            totalRefunded: { amountMinor: refundedTotal, currencyCode: order.currency },
            full,
            userId: order.userId,
            email: order.email,
            refundId: request.refundId,
          }),
        );
      });
      return reply(order.id);
    },
  };
}
