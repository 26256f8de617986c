// The checkout saga and the cancellation, as one re-drivable procedure per order.
//
// Every step is idempotent keyed by the order id, so `drive(id)` may run from the start at any time,
// by any driver (the PlaceOrder request, a payment event, the recovery driver after a crash), and
// reaches the same outcome. Only decision points are persisted:
//   - the PENDING order with its snapshot (by PlaceOrder);
//   - `compensation` = the reason, before any compensation starts: from then on no driver moves
//     the saga forward, every driver finishes the compensation;
//   - CONFIRMED (+ OrderPlaced) or REJECTED (+ OrderRejected), each a compare-and-set from PENDING;
//   - `cart_completed` once the cart was checked out;
//   - `cancel_actor` before a cancellation refunds, and CANCELLED (+ OrderCancelled) after it.
//
// Forward: RedeemPromotions (when the order has any; a refusal rejects it before anything is held or
// charged) → ReserveStock → AuthorizePayment → the pivot: CapturePayment ∥ CommitReservation →
// CONFIRMED → CompleteCart. The money is captured at confirmation, together with the stock commit.
// Compensation, in reverse: void (or refund what was captured) → release (or restock what was
// committed) → release the promotions → REJECTED. A cancellation releases the promotions too. Never: captured money on a REJECTED order, stock held by a REJECTED order.
import { asDate, outboxInsert, publish, query, remainingMs, UnavailableError, type Database, type Logger } from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { OrderCancelledSchema, OrderPlacedSchema, OrderRejectedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import type { FailureReason, PaymentStatus } from "./order-status.ts";
import { addHistory, loadOrder, recordFromRow, updateOrder, type OrderRecord } from "./orders.ts";
import { isPromotionRefusal } from "./promotion-step.ts";
import type { SagaSteps } from "./saga-steps.ts";

export interface SagaOptions {
  database: Database;
  steps: SagaSteps;
  logger: Logger;
  reservationTtlSeconds: number;
  /**
   * Extra AuthorizePayment/CapturePayment attempts on UNAVAILABLE in one drive (fewer when the
   * request's deadline is nearer); then the drive throws and the order stays PENDING for a re-drive.
   */
  paymentUnavailableRetries: number;
  /** Pause before the n-th extra attempt: n × this (default 200 ms). */
  retryDelayMs?: number;
}

export interface Saga {
  /**
   * Drives an order as far as it can go now: a PENDING checkout to CONFIRMED or REJECTED (or leaves it
   * PENDING while its payment's outcome is not known), then a confirmed order's cart completion and a
   * requested cancellation. Throws when a dependency fails in a way a later re-drive may cure — an
   * unreachable payment service or gateway among them: that is not a declined card.
   * `current` is the order as just written by its creator (spares reading it back).
   */
  drive(orderId: string, current?: OrderRecord): Promise<OrderRecord>;
}

/** What this run of the forward path did, so a compensation it starts undoes exactly that. */
interface Known {
  reservationId: string | undefined;
  /** AuthorizePayment was called (so a void is needed even for OUT_OF_STOCK). */
  authorizeCalled: boolean;
}

const money = (amountMinor: bigint, currencyCode: string) => ({ amountMinor, currencyCode });

const paymentUnavailable = (orderId: string, what: string) =>
  new UnavailableError(`${what} cannot be reached; order ${orderId} stays pending and is paid once it answers`, {
    reason: "PAYMENT_UNAVAILABLE",
    metadata: { order_id: orderId },
  });

export function createSaga(options: SagaOptions): Saga {
  const { database, steps, logger } = options;
  const retryDelayMs = options.retryDelayMs ?? 200;

  const reload = async (id: string) => (await loadOrder(database.em(), id, { history: false }))!;

  async function withPaymentRetries<T>(call: () => Promise<T>, unavailable: (outcome: T) => boolean): Promise<T> {
    let outcome = await call();
    for (let attempt = 1; attempt <= options.paymentUnavailableRetries && unavailable(outcome); attempt++) {
      // Within the request's deadline (none when recovery drives): past it, the answer would be lost.
      const left = remainingMs();
      if (left !== undefined && left < attempt * retryDelayMs * 2) break;
      await new Promise((resolve) => setTimeout(resolve, attempt * retryDelayMs));
      outcome = await call();
    }
    return outcome;
  }

  async function forward(order: OrderRecord): Promise<OrderRecord> {
    const known: Known = { reservationId: undefined, authorizeCalled: false };
    if (order.promotions.length > 0) {
      const redeemed = await steps.redeemPromotions(order);
      if (redeemed.kind === "refused") return decideToCompensate(order, redeemed.reason, known);
    }
    const reservation = await steps.reserveStock(order, options.reservationTtlSeconds);
    if (reservation.kind === "out_of_stock") return decideToCompensate(order, "OUT_OF_STOCK", known);
    known.reservationId = reservation.reservationId;
    if (reservation.state !== "active" && reservation.state !== "committed") return decideToCompensate(order, "RESERVATION_EXPIRED", known);
    // A checkout still unfinished after the reservation's ttl (a dependency down for that long, a
    // payment outcome that never came) is given up rather than charged long after the buyer left.
    if (reservation.state === "active" && Date.now() - order.createdAt.getTime() > options.reservationTtlSeconds * 1000) {
      return decideToCompensate(order, "RESERVATION_EXPIRED", known);
    }

    known.authorizeCalled = true;
    const authorization = await withPaymentRetries(
      () => steps.authorize(order),
      (outcome) => outcome.kind === "unavailable",
    );
    switch (authorization.kind) {
      case "pending":
        return order;
      case "declined":
        return decideToCompensate(order, authorization.reason, known);
      case "voided":
        return decideToCompensate(order, "PAYMENT_FAILED", known);
      case "unavailable":
        // Not a decline: the order stays PENDING (stock held) and a re-drive asks again.
        throw paymentUnavailable(order.id, authorization.what ?? "the payment service");
      case "authorized":
        break;
    }

    // The pivot: both in parallel; whichever way they end, both have ended before deciding.
    const reservationId = reservation.reservationId;
    const [capture, commit] = await Promise.allSettled([
      withPaymentRetries(
        () => steps.capture(order.id),
        (outcome) => outcome === "unavailable",
      ),
      reservation.state === "committed" ? Promise.resolve("committed" as const) : steps.commit(reservationId),
    ]);
    if (commit.status === "fulfilled" && commit.value === "gone") return decideToCompensate(order, "RESERVATION_EXPIRED", known);
    if (capture.status === "fulfilled" && capture.value === "refused") return decideToCompensate(order, "PAYMENT_FAILED", known);
    if (capture.status === "rejected") throw capture.reason;
    if (capture.value === "unavailable") throw paymentUnavailable(order.id, "the payment service");
    if (commit.status === "rejected") throw commit.reason;
    return confirm(order, reservationId, known);
  }

  async function confirm(order: OrderRecord, reservationId: string, known: Known): Promise<OrderRecord> {
    const placed = outboxInsert(
      OrderPlacedSchema,
      create(OrderPlacedSchema, {
        orderId: order.id,
        userId: order.userId,
        email: order.email,
        cartId: order.cartId,
        lines: order.lines.map((line) => ({
          sku: line.sku,
          productId: line.productId,
          quantity: line.quantity,
          unitPrice: money(line.unitPrice, order.currency),
          productName: line.productName,
        })),
        total: money(order.total, order.currency),
        subtotal: money(order.subtotal, order.currency),
        discount: money(order.discount, order.currency),
        shipping: money(order.shipping, order.currency),
        tax: money(order.tax, order.currency),
        // Where and how it ships: the confirmation shows it, the shipping service makes the shipment.
        shippingAddress: order.shippingAddress,
        shippingOptionId: order.shippingOptionId,
        cartTokenHash: order.cartTokenHash ?? "",
      }),
      "u",
    );
    // The compare-and-set, its history entry and OrderPlaced (only if it won) in one statement.
    const [confirmed] = await query(
      database.em(),
      `with u as (
         update orders set status = 'CONFIRMED', payment_status = 'PAID', captured = total, reservation_id = ?,
           version = version + 1, updated_at = clock_timestamp()
         where id = ? and status = 'PENDING' and compensation is null returning *
       ), h as (
         insert into order_status_change (order_id, status, actor, note) select id, 'CONFIRMED', 'system', '' from u returning created_at
       ), e as (
         ${placed.sql}
       )
       select u.*, (select created_at from h) as confirmed_at from u`,
      [reservationId, order.id, ...placed.params],
    );
    if (confirmed) {
      // The history this run knows in full (its creator's record) goes on with the entry just written.
      const at = asDate(confirmed.confirmed_at);
      const history = order.history.length > 0 ? [...order.history, { status: "CONFIRMED" as const, actor: "system", note: "", at }] : [];
      return recordFromRow(confirmed, order.lines, history);
    }
    const current = await reload(order.id);
    // Another driver decided to compensate first (or finished doing so): what this run captured and
    // committed is undone too; every undo step is idempotent, so repeating one is harmless.
    const reason = current.compensation ?? current.failureReason;
    if (reason && (current.status === "PENDING" || current.status === "REJECTED")) return compensate(current, reason, known);
    return current;
  }

  async function decideToCompensate(order: OrderRecord, reason: FailureReason, known: Known): Promise<OrderRecord> {
    const row = await database.transaction((em) =>
      updateOrder(em, order.id, {
        from: ["PENDING"],
        set: "compensation = ?, reservation_id = coalesce(reservation_id, ?)",
        values: [reason, known.reservationId ?? null],
        where: "compensation is null",
      }),
    );
    const current = await reload(order.id);
    if (!row && (current.status !== "PENDING" || !current.compensation)) return current;
    return compensate(current, current.compensation!, known);
  }

  async function compensate(order: OrderRecord, reason: FailureReason, known: Known): Promise<OrderRecord> {
    logger.info({ order_id: order.id, reason }, "compensating checkout");
    // Money first (reverse order of the forward path). OUT_OF_STOCK means no reservation, and a
    // promotion's refusal no redemption, so no driver went on to authorise — unless this very run
    // did after all (a racing re-drive).
    let paymentStatus: PaymentStatus = "VOIDED";
    let captured = 0n;
    let refunded = 0n;
    if ((reason !== "OUT_OF_STOCK" && !isPromotionRefusal(reason)) || known.authorizeCalled) {
      const voided = await steps.voidPayment(order.id);
      if (voided === "failed") paymentStatus = "FAILED";
      if (voided === "captured") {
        const figures = await steps.payment(order.id);
        captured = figures?.captured ?? 0n;
        if (figures && figures.captured > figures.refunded) {
          await steps.refund(order.id, "reject", figures.captured - figures.refunded, order.currency, `checkout rejected: ${reason}`);
        }
        refunded = captured;
        paymentStatus = "REFUNDED";
      }
    }
    const reservationId = known.reservationId ?? order.reservationId;
    if (reservationId && (await steps.release(reservationId)) === "committed") await steps.restock(reservationId);
    if (order.promotions.length > 0) await steps.releasePromotions(order);

    await database.transaction(async (em) => {
      const row = await updateOrder(em, order.id, {
        from: ["PENDING"],
        set: "status = 'REJECTED', failure_reason = compensation, payment_status = ?, captured = ?, refunded = ?",
        values: [paymentStatus, captured.toString(), refunded.toString()],
        where: "compensation is not null",
      });
      if (!row) return;
      await addHistory(em, order.id, "REJECTED", "system", String(row.compensation));
      await publish(em, OrderRejectedSchema, create(OrderRejectedSchema, { orderId: order.id, userId: order.userId, email: order.email, reason: String(row.compensation) }));
    });
    return reload(order.id);
  }

  async function completeCart(order: OrderRecord): Promise<OrderRecord> {
    const outcome = await steps.completeCart(order.cartId, order.id);
    // Refused: the cart was checked out by another order or merged meanwhile; nothing more to do.
    if (outcome === "refused") logger.warn({ order_id: order.id, cart_id: order.cartId }, "cart could not be completed; left as it is");
    await database.em().execute("update orders set cart_completed = true where id = ?", [order.id], "run");
    return { ...order, cartCompleted: true };
  }

  async function cancel(order: OrderRecord): Promise<OrderRecord> {
    // The amount is read from the row, unchanged until CANCELLED is written, so a re-drive refunds
    // the same amount under the same refund id (RefundOrder is refused while this runs).
    const remaining = order.captured - order.refunded;
    if (remaining > 0n) await steps.refund(order.id, "cancel", remaining, order.currency, order.cancelReason || "order cancelled");
    if (order.reservationId) await steps.restock(order.reservationId);
    if (order.promotions.length > 0) await steps.releasePromotions(order);
    await database.transaction(async (em) => {
      const row = await updateOrder(em, order.id, {
        from: ["CONFIRMED", "FULFILLING"],
        set: "status = 'CANCELLED', payment_status = 'REFUNDED', refunded = captured, cancel_actor = null",
        where: "cancel_actor is not null",
      });
      if (!row) return;
      await addHistory(em, order.id, "CANCELLED", order.cancelActor!, order.cancelReason);
      await publish(
        em,
        OrderCancelledSchema,
        create(OrderCancelledSchema, {
          orderId: order.id,
          userId: order.userId,
          email: order.email,
          actor: order.cancelActor!,
          reason: order.cancelReason,
        }),
      );
    });
    return reload(order.id);
  }

  return {
    async drive(orderId, current) {
      // `current`: the order as its creator just wrote it, saving a read on the request path.
      let order = current ?? (await reload(orderId));
      if (order.status === "PENDING") {
        order = order.compensation
          ? await compensate(order, order.compensation, { reservationId: undefined, authorizeCalled: false })
          : await forward(order);
      }
      if (order.status !== "PENDING" && order.status !== "REJECTED" && !order.cartCompleted) order = await completeCart(order);
      if (order.cancelActor && (order.status === "CONFIRMED" || order.status === "FULFILLING")) order = await cancel(order);
      return order;
    },
  };
}
