// Refunds of received returns, safe against crashes: the amount is computed and recorded as intended
// (with the units it covers) in one transaction before payment is asked; the refund goes through the
// order service (which refunds the payment partially and keeps the order's money state) under the
// refund id "return-<id>", which the payment service answers once however often it is asked; then the
// return is recorded REFUNDED. A service that dies between the refund and its record finds the intent
// at restart and asks again with the same id: exactly one refund, never a forgotten one.
import {
  dependencyUnavailable,
  FailedPreconditionError,
  failureOf,
  publish,
  startPeriodic,
  type BackgroundTask,
  type Database,
  type Logger,
} from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { ReturnRefundedSchema } from "@bazaar/contracts/bazaar/returns/v1/events_pb";
import { unitsAmount } from "./amounts.ts";
import { paidAmounts } from "./line-amounts.ts";
import type { ReturnsMetrics } from "./metrics.ts";
import type { OrderAccess } from "./order-access.ts";
import { loadReturn, moveStatus, tables } from "./return-store.ts";

export interface RefundsOptions {
  database: Database;
  orders: OrderAccess;
  logger: Logger;
  metrics: ReturnsMetrics;
  /** Test seam: called after the payment refund answered and before it is recorded (a crash test kills the process here). */
  afterRefundCall?: (returnId: string) => void;
}

export interface Refunds {
  /** Refunds a RECEIVED return (or finishes the refund it started); `actor` goes into the history. */
  refund(returnId: string, options: { includeShipping: boolean; actor: string }): Promise<void>;
  /** Finishes every refund recorded as intended and not done (at start, then periodically). */
  finishPending(): Promise<number>;
}

export const refundIdOf = (returnId: string) => `return-${returnId}`;

export function createRefunds(options: RefundsOptions): Refunds {
  const { database, orders, logger } = options;

  /** Records what the return refunds, and the units it covers, before any money moves. */
  async function intend(returnId: string, includeShipping: boolean): Promise<void> {
    const record = await loadReturn(database.em(), returnId);
    if (!record || record.refundState !== "none") return;
    const shipping = includeShipping ? paidAmounts(await orders.asService(record.orderId)).shipping : 0n;
    await database.transaction(async (em) => {
      const [row] = await tables(em).selectFrom("return_request").select(["status", "refund_state"]).where("id", "=", returnId).forUpdate().execute();
      if (row!.refund_state !== "none") return; // another request got here first
      if (row!.status !== "RECEIVED") throw new FailedPreconditionError(`return ${returnId} is ${row!.status}: only a received return is refunded`, { reason: "INVALID_TRANSITION" });
      let total = 0n;
      for (const line of record.lines) {
        const units = line.receivedResellable + line.receivedDamaged;
        if (units === 0) continue;
        const [returnable] = await tables(em)
          .selectFrom("returnable_line")
          .selectAll()
          .where("order_id", "=", record.orderId)
          .where("sku", "=", line.sku)
          .forUpdate()
          .execute();
        const amount = unitsAmount(BigInt(returnable!.line_amount), returnable!.delivered, returnable!.refunded_units, units);
        await tables(em)
          .updateTable("returnable_line")
          .set((eb) => ({ refunded_units: eb("refunded_units", "+", units) }))
          .where("order_id", "=", record.orderId)
          .where("sku", "=", line.sku)
          .execute();
        await tables(em).updateTable("return_line").set({ refund_amount: amount }).where("return_id", "=", returnId).where("sku", "=", line.sku).execute();
        total += amount;
      }
      if (includeShipping && shipping > 0n) {
        // Once per order: the first return that asks for it.
        const taken = await tables(em)
          .insertInto("shipping_refund")
          .values({ order_id: record.orderId, return_id: returnId, amount: shipping })
          .onConflict((oc) => oc.column("order_id").doNothing())
          .returning("order_id")
          .execute();
        if (taken.length > 0) total += shipping;
      }
      await tables(em)
        .updateTable("return_request")
        .set({ refund_state: "intended", refund_amount: total, include_shipping: includeShipping })
        .where("id", "=", returnId)
        .execute();
    });
  }

  /** Takes back an intent the payment refused (it would exceed what was captured): nothing moved. */
  async function withdraw(returnId: string): Promise<void> {
    await database.transaction(async (em) => {
      const record = await loadReturn(em, returnId);
      if (!record || record.refundState !== "intended") return;
      for (const line of record.lines) {
        const units = line.receivedResellable + line.receivedDamaged;
        if (units === 0) continue;
        await tables(em)
          .updateTable("returnable_line")
          .set((eb) => ({ refunded_units: eb("refunded_units", "-", units) }))
          .where("order_id", "=", record.orderId)
          .where("sku", "=", line.sku)
          .execute();
      }
      await tables(em).updateTable("return_line").set({ refund_amount: 0n }).where("return_id", "=", returnId).execute();
      await tables(em).deleteFrom("shipping_refund").where("return_id", "=", returnId).execute();
      await tables(em).updateTable("return_request").set({ refund_state: "none", refund_amount: 0n }).where("id", "=", returnId).execute();
    });
  }

  /** Asks for the intended refund (idempotent by its id) and records it. */
  async function finish(returnId: string, actor: string): Promise<void> {
    const record = await loadReturn(database.em(), returnId);
    if (!record || record.refundState !== "intended") return;
    if (record.refundAmount > 0n) {
      try {
        await orders.service.refundOrder({
          orderId: record.orderId,
          refundId: refundIdOf(returnId),
          amount: { amountMinor: record.refundAmount, currencyCode: record.currency },
          reason: `return ${returnId}`,
        });
      } catch (error) {
        const { code, reason, error: e } = failureOf(error);
        if (code === Code.FailedPrecondition) {
          await withdraw(returnId);
          throw new FailedPreconditionError(`return ${returnId} cannot be refunded: ${e.rawMessage}`, { reason: reason ?? "REFUND_EXCEEDS_CAPTURED", cause: e });
        }
        if (code === Code.Unavailable || code === Code.DeadlineExceeded) {
          throw dependencyUnavailable("order", error, "the refund is recorded and will be finished in the background");
        }
        throw error;
      }
      options.afterRefundCall?.(returnId);
    }
    const recorded = await database.transaction(async (em) => {
      const done = await tables(em)
        .updateTable("return_request")
        .set({ refund_state: "done" })
        .where("id", "=", returnId)
        .where("refund_state", "=", "intended")
        .returning("id")
        .execute();
      if (done.length === 0) return false; // recorded by a concurrent finisher
      await moveStatus(em, returnId, ["RECEIVED"], "REFUNDED", actor, "");
      await publish(
        em,
        ReturnRefundedSchema,
        create(ReturnRefundedSchema, {
          returnId,
          orderId: record.orderId,
          userId: record.userId,
          email: record.email,
          amount: { amountMinor: record.refundAmount, currencyCode: record.currency },
        }),
      );
      return true;
    });
    if (recorded) {
      options.metrics.moves.inc({ status: "REFUNDED" });
      options.metrics.refunded.inc({ currency: record.currency }, Number(record.refundAmount));
    }
  }

  return {
    async refund(returnId, { includeShipping, actor }) {
      await intend(returnId, includeShipping);
      await finish(returnId, actor);
    },
    async finishPending() {
      const pending = await tables(database.em()).selectFrom("return_request").select("id").where("refund_state", "=", "intended").orderBy("id").limit(100).execute();
      let finished = 0;
      for (const { id } of pending) {
        try {
          await finish(id, "system");
          finished += 1;
        } catch (error) {
          logger.warn({ err: error, return_id: id }, "pending refund not finished; retrying later");
        }
      }
      return finished;
    },
  };
}

/** Finishes pending refunds at start (a crashed predecessor's) and every `intervalMs`. */
export function startRefundRetries(refunds: Refunds, logger: Logger, intervalMs: number): BackgroundTask {
  return startPeriodic({ run: () => refunds.finishPending(), intervalMs, firstRunMs: 0, logger, what: "pending refunds" });
}
