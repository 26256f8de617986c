// Reading and writing returns: a return with its lines and history, status moves as compare-and-set
// updates (the status a move starts from is part of its WHERE), and each move's history entry.
import { clockTimestamp, typedQueries, type EntityManager } from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReturnSchema, type Return } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { uuidv7 } from "uuidv7";
import { returnsEntities } from "./entities.ts";
import { reasonToWire, statusToWire, type Status } from "./wire.ts";

export const tables = (em: EntityManager) => typedQueries(em, returnsEntities);

export interface ReturnRecord {
  id: string;
  orderId: string;
  userId: string;
  email: string;
  currency: string;
  status: Status;
  reason: string;
  comment: string;
  refundState: "none" | "intended" | "done";
  refundAmount: bigint;
  includeShipping: boolean;
  /** Empty strings without a label. */
  label: { carrier: string; trackingNumber: string; labelUrl: string; trackingUrl: string };
  createdAt: Date;
  updatedAt: Date;
  lines: Array<{ sku: string; quantity: number; receivedResellable: number; receivedDamaged: number; refundAmount: bigint; restocked: number }>;
  history: Array<{ status: string; actor: string; note: string; changedAt: Date }>;
}

export async function loadReturns(em: EntityManager, where: { id?: string; orderId?: string; ids?: string[] }): Promise<ReturnRecord[]> {
  let select = tables(em).selectFrom("return_request").selectAll();
  if (where.id) select = select.where("id", "=", where.id);
  if (where.orderId) select = select.where("order_id", "=", where.orderId);
  if (where.ids) select = select.where("id", "in", where.ids.length ? where.ids : ["00000000-0000-0000-0000-000000000000"]);
  const rows = await select.orderBy("id").execute();
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const [lines, history] = await Promise.all([
    tables(em).selectFrom("return_line").selectAll().where("return_id", "in", ids).orderBy("sku").execute(),
    tables(em).selectFrom("return_status_change").selectAll().where("return_id", "in", ids).orderBy("changed_at").orderBy("id").execute(),
  ]);
  return rows.map((row) => ({
    id: row.id,
    orderId: row.order_id,
    userId: row.user_id,
    email: row.email,
    currency: row.currency,
    status: row.status as Status,
    reason: row.reason,
    comment: row.comment,
    refundState: row.refund_state as ReturnRecord["refundState"],
    refundAmount: BigInt(row.refund_amount),
    includeShipping: row.include_shipping,
    label: { carrier: row.label_carrier, trackingNumber: row.label_tracking_number, labelUrl: row.label_url, trackingUrl: row.label_tracking_url },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lines: lines
      .filter((line) => line.return_id === row.id)
      .map((line) => ({ sku: line.sku, quantity: line.quantity, receivedResellable: line.received_resellable, receivedDamaged: line.received_damaged, refundAmount: BigInt(line.refund_amount), restocked: line.restocked })),
    history: history.filter((h) => h.return_id === row.id).map((h) => ({ status: h.status, actor: h.actor, note: h.note, changedAt: h.changed_at })),
  }));
}

export async function loadReturn(em: EntityManager, id: string): Promise<ReturnRecord | undefined> {
  return (await loadReturns(em, { id }))[0];
}

/**
 * Moves a return from one of `from` to `to` (compare-and-set) and records the move; false when the
 * return was no longer in one of `from` (another request moved it first).
 */
export async function moveStatus(em: EntityManager, id: string, from: readonly Status[], to: Status, actor: string, note: string): Promise<boolean> {
  const moved = await tables(em)
    .updateTable("return_request")
    .set({ status: to, updated_at: clockTimestamp })
    .where("id", "=", id)
    .where("status", "in", [...from])
    .returning("id")
    .execute();
  if (moved.length === 0) return false;
  await addHistory(em, id, to, actor, note);
  return true;
}

export async function addHistory(em: EntityManager, returnId: string, status: Status, actor: string, note: string): Promise<void> {
  await tables(em).insertInto("return_status_change").values({ id: uuidv7(), return_id: returnId, status, actor, note }).execute();
}

/** Gives a return's units back to what remains returnable (a rejected or cancelled return, units that never arrived). */
export async function releaseUnits(em: EntityManager, orderId: string, units: ReadonlyArray<{ sku: string; quantity: number }>): Promise<void> {
  for (const unit of units) {
    if (unit.quantity <= 0) continue;
    await tables(em)
      .updateTable("returnable_line")
      .set((eb) => ({ claimed: eb("claimed", "-", unit.quantity) }))
      .where("order_id", "=", orderId)
      .where("sku", "=", unit.sku)
      .execute();
  }
}

const money = (amountMinor: bigint, currencyCode: string) => ({ amountMinor, currencyCode });

export function returnMessage(record: ReturnRecord): Return {
  return create(ReturnSchema, {
    id: record.id,
    orderId: record.orderId,
    userId: record.userId,
    status: statusToWire[record.status],
    reason: reasonToWire(record.reason),
    comment: record.comment,
    lines: record.lines.map((line) => ({
      sku: line.sku,
      quantity: line.quantity,
      receivedResellable: line.receivedResellable,
      receivedDamaged: line.receivedDamaged,
      refundAmount: money(line.refundAmount, record.currency),
      restocked: line.restocked,
    })),
    refunded: money(record.refundState === "done" ? record.refundAmount : 0n, record.currency),
    history: record.history.map((h) => ({ status: statusToWire[h.status as Status], changeTime: timestampFromDate(h.changedAt), actor: h.actor, note: h.note })),
    createTime: timestampFromDate(record.createdAt),
    updateTime: timestampFromDate(record.updatedAt),
    ...(record.label.trackingNumber ? { label: record.label } : {}),
  });
}
