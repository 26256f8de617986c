// The orders' rows: plain typed records in, SQL out. Every status change is a compare-and-set on the
// row (`… where id = ? and status = ?`), so two drivers of one order never both win; the caller
// learns whether it won from the returned row.
import { asDate, isUniqueViolation, placeholders, query, type EntityManager, type Row } from "@bazaar/platform";
import type { FailureReason, PaymentStatus, Status } from "./order-status.ts";

export interface AddressSnapshot {
  recipientName: string;
  line1: string;
  line2: string;
  city: string;
  region: string;
  postalCode: string;
  countryCode: string;
  phone: string;
}

export interface OrderLineRecord {
  sku: string;
  productId: string;
  productName: string;
  options: Record<string, string>;
  quantity: number;
  unitPrice: bigint;
  lineTotal: bigint;
}

export interface StatusChangeRecord {
  status: Status;
  actor: string;
  note: string;
  at: Date;
}

/** A promotion an order redeems: its discount on items and shipping together, and its share of each line. */
export interface OrderPromotion {
  promotionId: string;
  code: string;
  amount: bigint;
  allocations: Array<{ sku: string; amount: bigint }>;
}

export interface OrderRecord {
  id: string;
  /** "" for a guest. */
  userId: string;
  email: string;
  cartId: string;
  /** sha256 (hex) of the guest cart's token; undefined for a signed-in buyer. */
  cartTokenHash: string | undefined;
  status: Status;
  paymentStatus: PaymentStatus;
  failureReason: FailureReason | undefined;
  /** Set before any compensation starts: from then on no driver moves the saga forward. */
  compensation: FailureReason | undefined;
  currency: string;
  subtotal: bigint;
  discount: bigint;
  shipping: bigint;
  tax: bigint;
  total: bigint;
  taxRateBps: number;
  captured: bigint;
  refunded: bigint;
  shippingAddress: AddressSnapshot;
  shippingOptionId: string;
  paymentMethod: string;
  reservationId: string | undefined;
  cartCompleted: boolean;
  /** Set while a cancellation is under way ("customer", "staff:<id>", "system"). */
  cancelActor: string | undefined;
  cancelReason: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  lines: OrderLineRecord[];
  /** The promotions the order redeems (the cart's, as priced at checkout). */
  promotions: OrderPromotion[];
  /** Oldest first; empty when not loaded (every order has at least its PENDING entry). */
  history: StatusChangeRecord[];
}

export type NewOrder = Pick<
  OrderRecord,
  | "id"
  | "userId"
  | "email"
  | "cartId"
  | "cartTokenHash"
  | "currency"
  | "subtotal"
  | "discount"
  | "shipping"
  | "tax"
  | "total"
  | "taxRateBps"
  | "shippingAddress"
  | "shippingOptionId"
  | "paymentMethod"
  | "lines"
> & { promotions?: OrderPromotion[] };


/**
 * Who takes a saga's lease: the instance's identity, stable over restarts (the platform's INSTANCE_ID), and
 * this process's incarnation. A restarted instance takes over at once the leases its earlier
 * incarnations held (`takeOverLeases`) instead of waiting for them to run out.
 */
export interface LeaseHolder {
  instance: string;
  incarnation: string;
}

/** SQL assigning a lease of `?` ms to `?` holder and `?` incarnation (values from `leaseValues`). */
export const LEASE_SET = "lease_until = clock_timestamp() + ? * interval '1 millisecond', lease_holder = ?, lease_incarnation = ?";
export const leaseValues = (leaseMs: number, holder: LeaseHolder | undefined) => [leaseMs, holder?.instance ?? null, holder?.incarnation ?? null];

/** Orders with work left: a saga under way, a cart not yet completed, a cancellation running (index orders_open_work). */
const OPEN_WORK = "(status = 'PENDING' or (status not in ('PENDING', 'REJECTED') and not cart_completed) or cancel_actor is not null)";

const big = (value: unknown): bigint => BigInt(String(value));
const json = <T>(value: unknown): T => (typeof value === "string" ? (JSON.parse(value) as T) : (value as T));
const optional = <T extends string>(value: unknown): T | undefined => (value == null ? undefined : (String(value) as T));

type StoredPromotion = { promotionId: string; code: string; amount: string; allocations?: Array<{ sku: string; amount: string }> };

/** The promotions column (amounts as decimal strings: exact in JSON). */
const promotionsToJson = (promotions: readonly OrderPromotion[]): StoredPromotion[] =>
  promotions.map((p) => ({ ...p, amount: p.amount.toString(), allocations: p.allocations.map((a) => ({ sku: a.sku, amount: a.amount.toString() })) }));

const promotionsFromJson = (value: unknown): OrderPromotion[] =>
  (json<StoredPromotion[] | undefined>(value) ?? []).map((p) => ({
    promotionId: p.promotionId,
    code: p.code,
    amount: BigInt(p.amount),
    allocations: (p.allocations ?? []).map((a) => ({ sku: a.sku, amount: BigInt(a.amount) })),
  }));

/** An order record from its row (as `select *` or `returning *` gives it) and its lines and history. */
export function recordFromRow(row: Row, lines: OrderLineRecord[], history: StatusChangeRecord[] = []): OrderRecord {
  return {
    id: String(row.id),
    userId: String(row.user_id),
    email: String(row.email),
    cartId: String(row.cart_id),
    cartTokenHash: optional(row.cart_token_hash),
    status: row.status as Status,
    paymentStatus: row.payment_status as PaymentStatus,
    failureReason: optional<FailureReason>(row.failure_reason),
    compensation: optional<FailureReason>(row.compensation),
    currency: String(row.currency),
    subtotal: big(row.subtotal),
    discount: big(row.discount),
    shipping: big(row.shipping),
    tax: big(row.tax),
    total: big(row.total),
    taxRateBps: Number(row.tax_rate_bps),
    captured: big(row.captured),
    refunded: big(row.refunded),
    shippingAddress: json<AddressSnapshot>(row.shipping_address),
    shippingOptionId: String(row.shipping_option_id),
    paymentMethod: String(row.payment_method),
    reservationId: optional(row.reservation_id),
    cartCompleted: Boolean(row.cart_completed),
    promotions: promotionsFromJson(row.promotions),
    cancelActor: optional(row.cancel_actor),
    cancelReason: String(row.cancel_reason),
    version: Number(row.version),
    createdAt: asDate(row.created_at),
    updatedAt: asDate(row.updated_at),
    lines,
    history,
  };
}

/**
 * Creates the idempotency key and, only if this request won it, the PENDING order with its lines and
 * first history entry, its lease held for `leaseMs` — in one statement, so one round trip. Returns
 * the order as written (without reading it back), or undefined when another request holds the key
 * (the unique (scope, key) index decided). Throws what `isCartClaimed` recognises when another live
 * order holds the cart (the partial unique index orders_one_checkout_per_cart decided).
 */
export async function createOrder(
  em: EntityManager,
  order: NewOrder,
  key: { scope: string; key: string; requestHash: string },
  leaseMs: number,
  holder?: LeaseHolder,
): Promise<OrderRecord | undefined> {
  const lines = order.lines.map((line, position) => ({
    position,
    sku: line.sku,
    product_id: line.productId,
    product_name: line.productName,
    options: line.options,
    quantity: line.quantity,
    // Exact as JSON numbers: amounts are at most 10^12 minor units per unit (payment's bound).
    unit_price: Number(line.unitPrice),
    line_total: Number(line.lineTotal),
  }));
  const [row] = await query(
    em,
    `with k as (
       insert into idempotency_key (scope, key, request_hash, order_id) values (?, ?, ?, ?)
       on conflict (scope, key) do nothing returning order_id
     ), o as (
       insert into orders (id, user_id, email, cart_id, cart_token_hash, status, currency, subtotal, discount, shipping, tax, total,
         tax_rate_bps, shipping_address, shipping_option_id, payment_method, lease_until, lease_holder, lease_incarnation, promotions)
       select k.order_id, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, clock_timestamp() + ? * interval '1 millisecond', ?, ?, ?::jsonb from k
       returning id, created_at, updated_at
     ), l as (
       insert into order_line (order_id, position, sku, product_id, product_name, options, quantity, unit_price, line_total)
       select o.id, x.position, x.sku, x.product_id, x.product_name, x.options, x.quantity, x.unit_price, x.line_total
       from o, jsonb_to_recordset(?::jsonb) as x(position integer, sku text, product_id text, product_name text, options jsonb, quantity integer, unit_price bigint, line_total bigint)
     ), h as (
       insert into order_status_change (order_id, status, actor, note) select o.id, 'PENDING', 'customer', '' from o returning created_at
     )
     select o.created_at, o.updated_at, (select created_at from h) as pending_at from o`,
    [
      key.scope,
      key.key,
      key.requestHash,
      order.id,
      order.userId,
      order.email,
      order.cartId,
      order.cartTokenHash ?? null,
      order.currency,
      order.subtotal.toString(),
      order.discount.toString(),
      order.shipping.toString(),
      order.tax.toString(),
      order.total.toString(),
      order.taxRateBps,
      JSON.stringify(order.shippingAddress),
      order.shippingOptionId,
      order.paymentMethod,
      ...leaseValues(leaseMs, holder),
      JSON.stringify(promotionsToJson(order.promotions ?? [])),
      JSON.stringify(lines),
    ],
  );
  if (!row) return undefined;
  return {
    ...order,
    promotions: order.promotions ?? [],
    status: "PENDING",
    paymentStatus: "PENDING",
    failureReason: undefined,
    compensation: undefined,
    captured: 0n,
    refunded: 0n,
    reservationId: undefined,
    cartCompleted: false,
    cancelActor: undefined,
    cancelReason: "",
    version: 1,
    createdAt: asDate(row.created_at),
    updatedAt: asDate(row.updated_at),
    history: [{ status: "PENDING", actor: "customer", note: "", at: asDate(row.pending_at) }],
  };
}

export async function addHistory(em: EntityManager, orderId: string, status: Status, actor: string, note: string): Promise<void> {
  await em.execute("insert into order_status_change (order_id, status, actor, note) values (?, ?, ?, ?)", [orderId, status, actor, note], "run");
}

async function linesOf(em: EntityManager, ids: string[]): Promise<Map<string, OrderLineRecord[]>> {
  const result = new Map<string, OrderLineRecord[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return result;
  const rows = await query(
    em,
    `select order_id, sku, product_id, product_name, options, quantity, unit_price, line_total from order_line
     where order_id in (${placeholders(ids.length)}) order by order_id, position`,
    ids,
  );
  for (const row of rows) {
    result.get(String(row.order_id))!.push({
      sku: String(row.sku),
      productId: String(row.product_id),
      productName: String(row.product_name),
      options: json<Record<string, string>>(row.options),
      quantity: Number(row.quantity),
      unitPrice: big(row.unit_price),
      lineTotal: big(row.line_total),
    });
  }
  return result;
}

export async function historyOf(em: EntityManager, ids: string[]): Promise<Map<string, StatusChangeRecord[]>> {
  const result = new Map<string, StatusChangeRecord[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return result;
  const rows = await query(
    em,
    `select order_id, status, actor, note, created_at from order_status_change where order_id in (${placeholders(ids.length)}) order by order_id, id`,
    ids,
  );
  for (const row of rows) {
    result.get(String(row.order_id))!.push({ status: row.status as Status, actor: String(row.actor), note: String(row.note), at: asDate(row.created_at) });
  }
  return result;
}

/** Completes order rows with their lines (and history when asked), keeping the rows' order. */
export async function withDetails(em: EntityManager, rows: Row[], options: { history?: boolean } = {}): Promise<OrderRecord[]> {
  const ids = rows.map((row) => String(row.id));
  const [lines, history] = await Promise.all([linesOf(em, ids), options.history === false ? undefined : historyOf(em, ids)]);
  return rows.map((row) => recordFromRow(row, lines.get(String(row.id))!, history?.get(String(row.id)) ?? []));
}

export async function loadOrder(em: EntityManager, id: string, options: { history?: boolean; forUpdate?: boolean } = {}): Promise<OrderRecord | undefined> {
  const rows = await query(em, `select * from orders where id = ?${options.forUpdate ? " for update" : ""}`, [id]);
  if (rows.length === 0) return undefined;
  return (await withDetails(em, rows, options))[0];
}

/**
 * Compare-and-set on one order: applies `set` (SQL assignments with `?` values) where the row is in
 * one of `from` and `where` holds; returns the updated row, or undefined when another change won.
 */
export async function updateOrder(
  em: EntityManager,
  id: string,
  change: { from: readonly Status[]; set: string; values?: unknown[]; where?: string; whereValues?: unknown[] },
): Promise<Row | undefined> {
  const rows = await query(
    em,
    `update orders set ${change.set}, version = version + 1, updated_at = clock_timestamp()
     where id = ? and status in (${placeholders(change.from.length)})${change.where ? ` and (${change.where})` : ""} returning *`,
    [...(change.values ?? []), id, ...change.from, ...(change.whereValues ?? [])],
  );
  return rows[0];
}

/** Holds (or extends) an order's lease for `leaseMs`; false when another driver holds it. */
export async function claimLease(em: EntityManager, id: string, leaseMs: number, holder?: LeaseHolder): Promise<boolean> {
  const rows = await query(em, `update orders set ${LEASE_SET} where id = ? and lease_until <= clock_timestamp() returning id`, [...leaseValues(leaseMs, holder), id]);
  return rows.length > 0;
}

/** Gives up this driver's lease so any driver (an event, the recovery driver) may continue at once. */
export async function releaseLease(em: EntityManager, id: string): Promise<void> {
  await em.execute("update orders set lease_until = clock_timestamp() where id = ?", [id], "run");
}

/**
 * Claims up to `limit` orders with work left (a saga under way, a cart not yet completed, a
 * cancellation running) whose lease expired, and leases them for `leaseMs`. SKIP LOCKED lets any
 * number of instances claim at once without waiting on each other or claiming one order twice.
 */
export async function claimDue(em: EntityManager, limit: number, leaseMs: number, holder?: LeaseHolder): Promise<string[]> {
  const rows = await query(
    em,
    `update orders set ${LEASE_SET}
     where id in (
       select id from orders
       where ${OPEN_WORK} and lease_until <= clock_timestamp()
       order by lease_until
       limit ?
       for update skip locked)
     returning id`,
    [...leaseValues(leaseMs, holder), limit],
  );
  return rows.map((row) => String(row.id));
}

/**
 * Ends, now, the leases that an earlier incarnation of this instance (same identity, another
 * process) holds on orders with work left: that process is gone (killed, crashed), so nobody drives
 * them until their lease runs out. Returns how many were freed for the recovery driver to claim.
 */
export async function takeOverLeases(em: EntityManager, holder: LeaseHolder): Promise<number> {
  const rows = await query(
    em,
    `update orders set lease_until = clock_timestamp()
     where lease_holder = ? and lease_incarnation is distinct from ? and lease_until > clock_timestamp() and ${OPEN_WORK}
     returning id`,
    [holder.instance, holder.incarnation],
  );
  return rows.length;
}

/** Moves a lease's end to `delayMs` from now (a driver that failed: tried again after that). */
export async function deferLease(em: EntityManager, id: string, delayMs: number): Promise<void> {
  await em.execute("update orders set lease_until = clock_timestamp() + ? * interval '1 millisecond' where id = ?", [delayMs, id], "run");
}

/** The live order (not REJECTED) holding a cart, if any: at most one (orders_one_checkout_per_cart). */
export interface CartClaim {
  orderId: string;
  userId: string;
  cartTokenHash: string | undefined;
  status: Status;
}

export async function findClaim(em: EntityManager, cartId: string): Promise<CartClaim | undefined> {
  const [row] = await query(em, "select id, user_id, cart_token_hash, status from orders where cart_id = ? and status <> 'REJECTED'", [cartId]);
  return row ? { orderId: String(row.id), userId: String(row.user_id), cartTokenHash: optional(row.cart_token_hash), status: row.status as Status } : undefined;
}

/** Whether `error` is the database refusing a second live order for one cart. */
export function isCartClaimed(error: unknown): boolean {
  return isUniqueViolation(error, "orders_one_checkout_per_cart");
}
