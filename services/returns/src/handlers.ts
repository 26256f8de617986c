// ReturnsService RPCs: validate (every violation at once, nothing changed), authorise (the order
// service says who may see an order; staff act on any), then move the return with a compare-and-set
// in one transaction with its history and event.
import {
  ADMIN_ROLE,
  checkSku,
  dependencyUnavailable,
  failureOf,
  checkText,
  checkUuid,
  ConflictError,
  currentPrincipal,
  FailedPreconditionError,
  keysetPage,
  NotFoundError,
  publish,
  readPage,
  requireRole,
  type Database,
  type Logger,
} from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, type Client, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import type { ShippingService } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import {
  ReturnApprovedSchema,
  ReturnCancelledSchema,
  ReturnReceivedSchema,
  ReturnRejectedSchema,
  ReturnRequestedSchema,
} from "@bazaar/contracts/bazaar/returns/v1/events_pb";
import { ReturnsService } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { uuidv7 } from "uuidv7";
import { actorOf, isStaff } from "./actor.ts";
import { paidAmounts } from "./line-amounts.ts";
import type { OrderAccess } from "./order-access.ts";
import type { ReturnsMetrics } from "./metrics.ts";
import type { Refunds } from "./refunds.ts";
import type { Restocks } from "./restocks.ts";
import { loadReturn, loadReturns, moveStatus, releaseUnits, returnMessage, tables, type ReturnRecord } from "./return-store.ts";
import { checkNote, COMMENT_RULE, MAX_UNITS, STAFF_RETURNS_PAGE_SIZE, violations } from "./validation.ts";
import { reasonFromWire, statusFromWire, type Status } from "./wire.ts";

export interface HandlerDeps {
  database: Database;
  orders: OrderAccess;
  refunds: Refunds;
  restocks: Restocks;
  /** Shipping on the service's own authority: return labels. */
  shipping: Client<typeof ShippingService>;
  logger: Logger;
  windowDays: number;
  metrics: ReturnsMetrics;
}

const DAY_MS = 86_400_000;
const RETURNS_KEYSET = { columns: ["id"], direction: "desc" } as const;

export function returnsHandlers(deps: HandlerDeps): ServiceImpl<typeof ReturnsService> {
  const { database, orders, refunds, restocks } = deps;

  /** Buys the return's label through shipping (idempotent by return: a retried approval gets the same one). */
  async function buyLabel(record: ReturnRecord): Promise<ReturnRecord["label"]> {
    try {
      const label = await deps.shipping.buyReturnLabel({ orderId: record.orderId, returnId: record.id });
      return { carrier: label.carrier, trackingNumber: label.trackingNumber, labelUrl: label.labelUrl, trackingUrl: label.trackingUrl };
    } catch (error) {
      const { code, error: e } = failureOf(error);
      if (code === Code.NotFound || code === Code.FailedPrecondition) {
        throw new FailedPreconditionError(`no return label can be bought for order ${record.orderId}: ${e.rawMessage}`, { reason: "LABEL_NOT_AVAILABLE", cause: e });
      }
      throw dependencyUnavailable("shipping", error, "nothing changed; approve again");
    }
  }

  /** The return, when the caller may reach it: staff any; others those of an order they may see. */
  async function accessible(returnId: string, context: HandlerContext): Promise<ReturnRecord> {
    const record = await loadReturn(database.em(), returnId);
    if (!record) throw new NotFoundError(`return ${returnId} not found`);
    if (isStaff(currentPrincipal())) return record;
    try {
      await orders.asCaller(record.orderId, context);
    } catch (error) {
      if (error instanceof NotFoundError) throw new NotFoundError(`return ${returnId} not found`);
      throw error;
    }
    return record;
  }

  const reply = async (id: string) => ({ return: returnMessage((await loadReturn(database.em(), id))!) });

  /** Moves a return (compare-and-set) with its history and event; ABORTED when another request moved it first. */
  async function move(
    record: ReturnRecord,
    from: readonly Status[],
    to: Status,
    note: string,
    effects: (em: Parameters<Parameters<Database["transaction"]>[0]>[0]) => Promise<void>,
  ): Promise<void> {
    const actor = actorOf(currentPrincipal());
    const moved = await database.transaction(async (em) => {
      if (!(await moveStatus(em, record.id, from, to, actor, note))) return false;
      await effects(em);
      return true;
    });
    if (!moved) throw new ConflictError(`return ${record.id} changed meanwhile; read it again`, { reason: "CONCURRENT_CHANGE" });
    deps.metrics.moves.inc({ status: to });
  }

  function invalidTransition(record: ReturnRecord, action: string): FailedPreconditionError {
    return new FailedPreconditionError(`return ${record.id} cannot be ${action}: it is ${record.status}`, { reason: "INVALID_TRANSITION" });
  }

  const who = (record: ReturnRecord) => ({ returnId: record.id, orderId: record.orderId, userId: record.userId, email: record.email });

  return {
    async requestReturn(request, context) {
      const v = violations();
      checkUuid(v, "order_id", request.orderId);
      v.check(request.lines.length > 0, "lines", "must name at least one line");
      const seen = new Set<string>();
      request.lines.forEach((line, i) => {
        if (checkSku(v, `lines[${i}].sku`, line.sku)) v.check(!seen.has(line.sku), `lines[${i}].sku`, "is listed twice");
        seen.add(line.sku);
        v.check(line.quantity >= 1 && line.quantity <= MAX_UNITS, `lines[${i}].quantity`, `must be between 1 and ${MAX_UNITS}`);
      });
      const reason = reasonFromWire(request.reason);
      v.check(reason, "reason", "must be DAMAGED, WRONG_ITEM, NOT_AS_DESCRIBED, CHANGED_MIND or OTHER");
      checkText(v, "comment", request.comment, COMMENT_RULE);
      v.throwIfAny();

      const order = await orders.asCaller(request.orderId, context);
      const ordered = new Map(order.lines.map((line) => [line.sku, line]));
      const unknown = violations();
      request.lines.forEach((line, i) => unknown.check(ordered.has(line.sku), `lines[${i}].sku`, `is not a line of order ${order.id}`));
      unknown.throwIfAny();
      if (order.status !== OrderStatus.DELIVERED) {
        throw new FailedPreconditionError(`order ${order.id} is not delivered: only delivered orders can be returned`, { reason: "ORDER_NOT_DELIVERED" });
      }
      const delivered = [...order.history].reverse().find((change) => change.status === OrderStatus.DELIVERED)?.changeTime;
      const deliveredAt = delivered ? timestampDate(delivered) : new Date();
      if (Date.now() - deliveredAt.getTime() > deps.windowDays * DAY_MS) {
        throw new FailedPreconditionError(`the return window of order ${order.id} closed ${deps.windowDays} days after its delivery`, { reason: "RETURN_WINDOW_CLOSED" });
      }
      const paid = paidAmounts(order);
      const id = uuidv7();
      const actor = actorOf(currentPrincipal());
      const currency = order.totals?.total?.currencyCode ?? "";

      await database.transaction(async (em) => {
        await tables(em)
          .insertInto("returnable_line")
          .values(order.lines.map((line) => ({ order_id: order.id, sku: line.sku, delivered: line.quantity, line_amount: paid.lines.get(line.sku) ?? 0n })))
          .onConflict((oc) => oc.columns(["order_id", "sku"]).doNothing())
          .execute();
        for (const [i, line] of request.lines.entries()) {
          // One conditional update under the row's lock: of two requests racing for the last unit,
          // the second sees the first's claim and matches nothing.
          const claimed = await tables(em)
            .updateTable("returnable_line")
            .set((eb) => ({ claimed: eb("claimed", "+", line.quantity) }))
            .where("order_id", "=", order.id)
            .where("sku", "=", line.sku)
            .where((eb) => eb(eb("claimed", "+", line.quantity), "<=", eb.ref("delivered")))
            .returning(["claimed", "delivered"])
            .execute();
          if (claimed.length === 0) {
            throw new FailedPreconditionError(`lines[${i}]: more units of ${line.sku} than remain returnable on order ${order.id}`, { reason: "RETURN_QUANTITY_EXCEEDED" });
          }
        }
        await tables(em)
          .insertInto("return_request")
          .values({ id, order_id: order.id, user_id: order.userId, email: order.email, currency, status: "REQUESTED", reason: reason!, comment: request.comment })
          .execute();
        await tables(em)
          .insertInto("return_line")
          .values(request.lines.map((line) => ({ return_id: id, sku: line.sku, quantity: line.quantity })))
          .execute();
        await tables(em).insertInto("return_status_change").values({ id: uuidv7(), return_id: id, status: "REQUESTED", actor, note: request.comment }).execute();
        await publish(em, ReturnRequestedSchema, create(ReturnRequestedSchema, { returnId: id, orderId: order.id, userId: order.userId, email: order.email }));
      });
      deps.metrics.moves.inc({ status: "REQUESTED" });
      return reply(id);
    },

    async getReturn(request, context) {
      const v = violations();
      checkUuid(v, "return_id", request.returnId);
      v.throwIfAny();
      return { return: returnMessage(await accessible(request.returnId, context)) };
    },

    async listOrderReturns(request, context) {
      const v = violations();
      checkUuid(v, "order_id", request.orderId);
      v.throwIfAny();
      await orders.asCaller(request.orderId, context);
      return { returns: (await loadReturns(database.em(), { orderId: request.orderId })).map(returnMessage) };
    },

    async listReturns(request) {
      requireRole(ADMIN_ROLE);
      const v = violations();
      const status = request.status === 0 ? undefined : statusFromWire(request.status);
      v.check(request.status === 0 || status, "status", "is not a return status");
      const cursor = readPage(v, request, STAFF_RETURNS_PAGE_SIZE, { rpc: "ListReturns", status: status ?? "" }, RETURNS_KEYSET);
      v.throwIfAny();
      let select = tables(database.em()).selectFrom("return_request").select("id");
      if (status) select = select.where("status", "=", status);
      const page = await keysetPage(select, cursor);
      const records = await loadReturns(database.em(), { ids: page.rows.map((row) => row.id) });
      return { returns: records.sort((a, b) => (a.id < b.id ? 1 : -1)).map(returnMessage), nextPageToken: page.nextPageToken };
    },

    async approveReturn(request, context) {
      requireRole(ADMIN_ROLE);
      const v = violations();
      checkUuid(v, "return_id", request.returnId);
      checkNote(v, "note", request.note);
      v.throwIfAny();
      const record = await accessible(request.returnId, context);
      if (record.status === "APPROVED") return { return: returnMessage(record) };
      if (record.status !== "REQUESTED") throw invalidTransition(record, "approved");
      // Bought before the move (the carrier is another system); a failure changes nothing.
      const label = request.buyLabel ? await buyLabel(record) : undefined;
      await move(record, ["REQUESTED"], "APPROVED", request.note, async (em) => {
        if (label) {
          await tables(em)
            .updateTable("return_request")
            .set({ label_carrier: label.carrier, label_tracking_number: label.trackingNumber, label_url: label.labelUrl, label_tracking_url: label.trackingUrl })
            .where("id", "=", record.id)
            .execute();
        }
        await publish(em, ReturnApprovedSchema, create(ReturnApprovedSchema, { ...who(record), ...label }));
      });
      if (label) deps.metrics.labels.inc();
      return reply(record.id);
    },

    async rejectReturn(request, context) {
      requireRole(ADMIN_ROLE);
      const v = violations();
      checkUuid(v, "return_id", request.returnId);
      checkNote(v, "note", request.note, true);
      v.throwIfAny();
      const record = await accessible(request.returnId, context);
      if (record.status === "REJECTED") return { return: returnMessage(record) };
      if (record.status !== "REQUESTED") throw invalidTransition(record, "rejected");
      await move(record, ["REQUESTED"], "REJECTED", request.note, async (em) => {
        await releaseUnits(em, record.orderId, record.lines);
        await publish(em, ReturnRejectedSchema, create(ReturnRejectedSchema, { ...who(record), note: request.note }));
      });
      return reply(record.id);
    },

    async cancelReturn(request, context) {
      const v = violations();
      checkUuid(v, "return_id", request.returnId);
      checkNote(v, "note", request.note);
      v.throwIfAny();
      const record = await accessible(request.returnId, context);
      if (record.status === "CANCELLED") return { return: returnMessage(record) };
      if (record.status !== "REQUESTED" && record.status !== "APPROVED") throw invalidTransition(record, "cancelled");
      await move(record, ["REQUESTED", "APPROVED"], "CANCELLED", request.note, async (em) => {
        await releaseUnits(em, record.orderId, record.lines);
        await publish(em, ReturnCancelledSchema, create(ReturnCancelledSchema, who(record)));
      });
      return reply(record.id);
    },

    async receiveReturn(request, context) {
      requireRole(ADMIN_ROLE);
      const v = violations();
      checkUuid(v, "return_id", request.returnId);
      const seen = new Set<string>();
      request.lines.forEach((line, i) => {
        if (checkSku(v, `lines[${i}].sku`, line.sku)) v.check(!seen.has(line.sku), `lines[${i}].sku`, "is listed twice");
        seen.add(line.sku);
        v.check(line.resellable >= 0, `lines[${i}].resellable`, "must not be negative");
        v.check(line.damaged >= 0, `lines[${i}].damaged`, "must not be negative");
      });
      checkNote(v, "note", request.note);
      v.throwIfAny();
      const record = await accessible(request.returnId, context);
      const lines = new Map(record.lines.map((line) => [line.sku, line]));
      const foreign = violations();
      request.lines.forEach((line, i) => foreign.check(lines.has(line.sku), `lines[${i}].sku`, `is not a line of return ${record.id}`));
      foreign.throwIfAny();
      if (record.status !== "APPROVED") throw invalidTransition(record, "received");
      for (const line of request.lines) {
        if (line.resellable + line.damaged > lines.get(line.sku)!.quantity) {
          throw new FailedPreconditionError(`${line.sku}: ${line.resellable + line.damaged} units received, but return ${record.id} holds ${lines.get(line.sku)!.quantity}`, {
            reason: "RECEIVED_EXCEEDS_APPROVED",
          });
        }
      }
      const received = new Map(request.lines.map((line) => [line.sku, line]));
      const restocked = request.lines.reduce((sum, line) => sum + line.resellable, 0);
      await move(record, ["APPROVED"], "RECEIVED", request.note, async (em) => {
        for (const line of record.lines) {
          const got = received.get(line.sku);
          await tables(em)
            .updateTable("return_line")
            .set({ received_resellable: got?.resellable ?? 0, received_damaged: got?.damaged ?? 0 })
            .where("return_id", "=", record.id)
            .where("sku", "=", line.sku)
            .execute();
        }
        // Units that never arrived are returnable again.
        await releaseUnits(em, record.orderId, record.lines.map((line) => ({ sku: line.sku, quantity: line.quantity - (received.get(line.sku)?.resellable ?? 0) - (received.get(line.sku)?.damaged ?? 0) })));
        await publish(em, ReturnReceivedSchema, create(ReturnReceivedSchema, { ...who(record), restockedUnits: restocked }));
      });
      // Resellable units back to stock as RETURNED movements, after the receipt is recorded and once
      // per line (restocks.ts): what fails now is finished by the retries.
      await restocks.restock(record.id);
      return reply(record.id);
    },

    async refundReturn(request, context) {
      const staff = requireRole(ADMIN_ROLE);
      const v = violations();
      checkUuid(v, "return_id", request.returnId);
      v.throwIfAny();
      const record = await accessible(request.returnId, context);
      if (record.status === "REFUNDED") return { return: returnMessage(record) };
      if (record.status !== "RECEIVED") throw invalidTransition(record, "refunded");
      await refunds.refund(record.id, { includeShipping: request.includeShipping, actor: actorOf(staff) });
      return reply(record.id);
    },
  };
}
