// Payment rows and their state changes, each inside the caller's transaction and with its event in
// the outbox of that same transaction. The CHECK constraints of the schema back every rule here.
import { asDate, outboxInsert, pgArray, publish, query, type EntityManager, type Row } from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { MoneySchema, type Money } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import {
  PaymentAuthorizedSchema,
  PaymentCapturedSchema,
  PaymentFailedSchema,
  PaymentRefundedSchema,
  PaymentVoidedSchema,
} from "@bazaar/contracts/bazaar/payment/v1/events_pb";
import { uuidv7 } from "uuidv7";

export type PaymentStateName = "pending" | "authorized" | "captured" | "partially_refunded" | "refunded" | "voided" | "failed";
export type OperationKind = "authorize" | "capture" | "void" | "refund";

/** ISO 4217's code for "no currency": the payment recorded when an order is voided before any authorisation. */
export const NO_CURRENCY = "XXX";

export interface PaymentRow {
  id: string;
  orderId: string;
  state: PaymentStateName;
  currency: string;
  amount: bigint;
  captured: bigint;
  refunded: bigint;
  paymentMethod: string;
  customerId: string;
  email: string;
  gateway: string;
  gatewayReference: string;
  failureCode: string;
  failureMessage: string;
  /** Another call holds the payment while it talks to the gateway. */
  busy: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface OperationView {
  id: string;
  kind: OperationKind;
  idempotencyKey: string;
  amount: bigint;
  currency: string;
  succeeded: boolean;
  gatewayReference: string;
  failureCode: string;
  refundId: string | undefined;
  reason: string;
  createdAt: Date;
}

export interface PaymentView extends PaymentRow {
  operations: OperationView[];
}

const paymentColumns = `id, order_id, state, currency, amount::text as amount, captured::text as captured,
  refunded::text as refunded, payment_method, customer_id, email, gateway, gateway_reference, failure_code,
  failure_message, coalesce(busy_until > clock_timestamp(), false) as busy, created_at, updated_at`;

const operationColumns = `id, kind, idempotency_key, amount::text as amount, currency, succeeded, gateway_reference,
  failure_code, refund_id, reason, created_at`;


function toPayment(row: Row): PaymentRow {
  return {
    id: String(row.id),
    orderId: String(row.order_id),
    state: row.state as PaymentStateName,
    currency: String(row.currency),
    amount: BigInt(String(row.amount)),
    captured: BigInt(String(row.captured)),
    refunded: BigInt(String(row.refunded)),
    paymentMethod: String(row.payment_method),
    customerId: String(row.customer_id),
    email: String(row.email),
    gateway: String(row.gateway),
    gatewayReference: String(row.gateway_reference),
    failureCode: String(row.failure_code),
    failureMessage: String(row.failure_message),
    busy: row.busy === true,
    createdAt: asDate(row.created_at),
    updatedAt: asDate(row.updated_at),
  };
}

function toOperation(row: Row): OperationView {
  return {
    id: String(row.id),
    kind: row.kind as OperationKind,
    idempotencyKey: String(row.idempotency_key),
    amount: BigInt(String(row.amount)),
    currency: String(row.currency),
    succeeded: row.succeeded === true,
    gatewayReference: String(row.gateway_reference),
    failureCode: String(row.failure_code),
    refundId: row.refund_id == null ? undefined : String(row.refund_id),
    reason: String(row.reason),
    createdAt: asDate(row.created_at),
  };
}

export const money = (amount: bigint, currency: string): Money => create(MoneySchema, { amountMinor: amount, currencyCode: currency });

/** The order's payment, locked for the rest of the transaction. */
export async function lockByOrder(em: EntityManager, orderId: string): Promise<PaymentRow | undefined> {
  const [row] = await query(em, `select ${paymentColumns} from payment where order_id = ? for update`, [orderId]);
  return row ? toPayment(row) : undefined;
}

/** The payment a gateway knows by `reference` (or, before its reference was recorded, by order), locked. */
export async function lockByGatewayReference(em: EntityManager, gateway: string, reference: string, orderId?: string): Promise<PaymentRow | undefined> {
  const [row] = await query(
    em,
    `select ${paymentColumns} from payment
      where gateway = ? and (gateway_reference = ? or (gateway_reference = '' and order_id::text = ?))
      order by (gateway_reference = ?) desc limit 1 for update`,
    [gateway, reference, orderId ?? "", reference],
  );
  return row ? toPayment(row) : undefined;
}

export async function operationsOf(em: EntityManager, paymentId: string): Promise<OperationView[]> {
  return (await query(em, `select ${operationColumns} from payment_operation where payment_id = ? order by created_at, id`, [paymentId])).map(toOperation);
}

export async function viewOf(em: EntityManager, payment: PaymentRow): Promise<PaymentView> {
  return { ...payment, operations: await operationsOf(em, payment.id) };
}

/** The order's payment with its operations, in one statement. */
export async function findView(em: EntityManager, orderId: string): Promise<PaymentView | undefined> {
  const [row] = await query(
    em,
    `select ${paymentColumns},
       (select coalesce(json_agg(op order by op.created_at, op.id), '[]') from (select ${operationColumns} from payment_operation where payment_id = payment.id) op) as operations
     from payment where order_id = ?`,
    [orderId],
  );
  if (!row) return undefined;
  const operations = (typeof row.operations === "string" ? JSON.parse(row.operations) : row.operations) as Row[];
  return { ...toPayment(row), operations: operations.map(toOperation) };
}

/** A new payment in `pending`, unless the order has one already (then nothing happens). */
export async function insertPending(
  em: EntityManager,
  input: { orderId: string; amount: bigint; currency: string; paymentMethod: string; customerId: string; email: string; gateway: string },
): Promise<void> {
  await em.execute(
    `insert into payment (id, order_id, state, currency, amount, payment_method, customer_id, email, gateway)
     values (?, ?, 'pending', ?, ?, ?, ?, ?, ?) on conflict (order_id) do nothing`,
    [uuidv7(), input.orderId, input.currency, String(input.amount), input.paymentMethod, input.customerId, input.email, input.gateway],
    "run",
  );
}

/**
 * The common first authorisation in one statement: a new payment, pending and already held by this
 * call for `leaseMs` (as insertPending + takeLease would leave it). Undefined when the order has a
 * payment already: then the caller decides under the row lock.
 */
export async function insertPendingHeld(
  em: EntityManager,
  input: { orderId: string; amount: bigint; currency: string; paymentMethod: string; customerId: string; email: string; gateway: string },
  leaseMs: number,
): Promise<PaymentRow | undefined> {
  const [row] = await query(
    em,
    `insert into payment (id, order_id, state, currency, amount, payment_method, customer_id, email, gateway, busy_until)
     values (?, ?, 'pending', ?, ?, ?, ?, ?, ?, clock_timestamp() + make_interval(secs => ?)) on conflict (order_id) do nothing
     returning ${paymentColumns}`,
    [uuidv7(), input.orderId, input.currency, String(input.amount), input.paymentMethod, input.customerId, input.email, input.gateway, leaseMs / 1000],
  );
  // Held by this call, not by another one.
  return row ? { ...toPayment(row), busy: false } : undefined;
}

/**
 * The common capture in one statement: holds the order's payment for `leaseMs` when it is authorized
 * and nobody holds it. Undefined otherwise: then the caller decides under the row lock.
 */
export async function holdAuthorized(em: EntityManager, orderId: string, leaseMs: number): Promise<PaymentRow | undefined> {
  const [row] = await query(
    em,
    `update payment set busy_until = clock_timestamp() + make_interval(secs => ?)
     where order_id = ? and state = 'authorized' and (busy_until is null or busy_until <= clock_timestamp())
     returning ${paymentColumns}`,
    [leaseMs / 1000, orderId],
  );
  return row ? { ...toPayment(row), busy: false } : undefined;
}

/** The order has no payment and is voided: record a void, so a late authorisation is refused. */
export async function insertVoided(em: EntityManager, orderId: string, gateway: string, voidKey: string): Promise<void> {
  const id = uuidv7();
  await em.execute(
    `insert into payment (id, order_id, state, currency, amount, gateway) values (?, ?, 'voided', ?, 0, ?)`,
    [id, orderId, NO_CURRENCY, gateway],
    "run",
  );
  await recordOperation(em, id, { kind: "void", key: voidKey, amount: 0n, currency: NO_CURRENCY, succeeded: true });
  await publish(em, PaymentVoidedSchema, create(PaymentVoidedSchema, { paymentId: id, orderId }));
}

/** Holds the payment for `leaseMs` while this instance talks to the gateway. */
export async function takeLease(em: EntityManager, paymentId: string, leaseMs: number): Promise<void> {
  await em.execute("update payment set busy_until = clock_timestamp() + make_interval(secs => ?) where id = ?", [leaseMs / 1000, paymentId], "run");
}

export async function releaseLease(em: EntityManager, paymentId: string): Promise<void> {
  await em.execute("update payment set busy_until = null where id = ?", [paymentId], "run");
}

export interface OperationInput {
  kind: OperationKind;
  key: string;
  amount: bigint;
  currency: string;
  succeeded: boolean;
  gatewayReference?: string;
  failureCode?: string;
  refundId?: string;
  reason?: string;
}

const recordOperationSql = `insert into payment_operation (id, payment_id, kind, idempotency_key, amount, currency, succeeded, gateway_reference, failure_code, refund_id, reason)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (payment_id, kind, idempotency_key) do update
       set succeeded = excluded.succeeded, amount = excluded.amount, gateway_reference = excluded.gateway_reference,
           failure_code = excluded.failure_code, reason = excluded.reason, created_at = clock_timestamp()
     returning ${operationColumns}`;

/** Records an operation; a repeated one (same kind and key) updates its outcome instead of adding a row. */
export async function recordOperation(em: EntityManager, paymentId: string, op: OperationInput): Promise<OperationView> {
  const [row] = await query(em, recordOperationSql, operationParams(paymentId, op));
  return toOperation(row!);
}

function operationParams(paymentId: string, op: OperationInput): unknown[] {
  return [
    uuidv7(),
    paymentId,
    op.kind,
    op.key,
    String(op.amount),
    op.currency,
    op.succeeded,
    op.gatewayReference ?? "",
    op.failureCode ?? "",
    op.refundId ?? null,
    op.reason ?? "",
  ];
}

export async function findRefund(em: EntityManager, paymentId: string, refundId: string): Promise<OperationView | undefined> {
  const [row] = await query(em, `select ${operationColumns} from payment_operation where payment_id = ? and kind = 'refund' and refund_id = ?`, [
    paymentId,
    refundId,
  ]);
  return row ? toOperation(row) : undefined;
}

async function update(em: EntityManager, paymentId: string, assignments: string, params: unknown[]): Promise<void> {
  await em.execute(`update payment set ${assignments}, busy_until = null, updated_at = clock_timestamp() where id = ?`, [...params, paymentId], "run");
}

/** `update`, `recordOperation` and the event (`outboxInsert`) of the same payment in one statement (one round trip). */
async function updateRecording(
  em: EntityManager,
  paymentId: string,
  assignments: string,
  params: unknown[],
  op: OperationInput,
  event: { sql: string; params: unknown[] },
): Promise<OperationView> {
  const [row] = await query(
    em,
    `with changed as (update payment set ${assignments}, busy_until = null, updated_at = clock_timestamp() where id = ? returning id),
     e as (${event.sql})
     ${recordOperationSql}`,
    [...params, paymentId, ...event.params, ...operationParams(paymentId, op)],
  );
  return toOperation(row!);
}

/** pending → authorized, with PaymentAuthorized. */
export async function markAuthorized(em: EntityManager, payment: PaymentRow, reference: string, key: string): Promise<void> {
  await updateRecording(
    em,
    payment.id,
    "state = 'authorized', gateway_reference = ?",
    [reference],
    { kind: "authorize", key, amount: payment.amount, currency: payment.currency, succeeded: true, gatewayReference: reference },
    outboxInsert(
      PaymentAuthorizedSchema,
      create(PaymentAuthorizedSchema, { paymentId: payment.id, orderId: payment.orderId, amount: money(payment.amount, payment.currency) }),
      "changed",
    ),
  );
}

/** pending → failed, with PaymentFailed. */
export async function markFailed(em: EntityManager, payment: PaymentRow, failure: { code: string; message: string; reference?: string | undefined }, key: string): Promise<void> {
  const message = failure.message.slice(0, 1000);
  await update(em, payment.id, "state = 'failed', failure_code = ?, failure_message = ?, gateway_reference = coalesce(nullif(?, ''), gateway_reference)", [
    failure.code,
    message,
    failure.reference ?? "",
  ]);
  await recordOperation(em, payment.id, {
    kind: "authorize",
    key,
    amount: payment.amount,
    currency: payment.currency,
    succeeded: false,
    failureCode: failure.code,
    gatewayReference: failure.reference ?? "",
  });
  await publish(
    em,
    PaymentFailedSchema,
    create(PaymentFailedSchema, { paymentId: payment.id, orderId: payment.orderId, failureCode: failure.code, failureMessage: message }),
  );
}

/** Still pending at the gateway: remember its reference so a webhook can find the payment. */
export async function markStillPending(em: EntityManager, payment: PaymentRow, reference: string): Promise<void> {
  await update(em, payment.id, "gateway_reference = ?", [reference]);
}

/** authorized → captured (in full), with PaymentCaptured. */
export async function markCaptured(em: EntityManager, payment: PaymentRow, key: string): Promise<void> {
  await updateRecording(
    em,
    payment.id,
    "state = 'captured', captured = amount",
    [],
    { kind: "capture", key, amount: payment.amount, currency: payment.currency, succeeded: true, gatewayReference: payment.gatewayReference },
    outboxInsert(
      PaymentCapturedSchema,
      create(PaymentCapturedSchema, { paymentId: payment.id, orderId: payment.orderId, amount: money(payment.amount, payment.currency) }),
      "changed",
    ),
  );
}

/** pending or authorized → voided, with PaymentVoided. */
export async function markVoided(em: EntityManager, payment: PaymentRow, key: string): Promise<void> {
  await update(em, payment.id, "state = 'voided'", []);
  await recordOperation(em, payment.id, { kind: "void", key, amount: payment.amount, currency: payment.currency, succeeded: true, gatewayReference: payment.gatewayReference });
  await publish(em, PaymentVoidedSchema, create(PaymentVoidedSchema, { paymentId: payment.id, orderId: payment.orderId }));
}

/** A refund on top of what was refunded, with PaymentRefunded; the CHECKs refuse more than was captured. */
export async function addRefund(
  em: EntityManager,
  payment: PaymentRow,
  refund: { refundId: string; amount: bigint; reason: string; reference: string; key: string },
): Promise<OperationView> {
  const total = payment.refunded + refund.amount;
  await update(em, payment.id, "refunded = ?::bigint, state = case when ?::bigint = captured then 'refunded' else 'partially_refunded' end", [String(total), String(total)]);
  const operation = await recordOperation(em, payment.id, {
    kind: "refund",
    key: refund.key,
    amount: refund.amount,
    currency: payment.currency,
    succeeded: true,
    gatewayReference: refund.reference,
    refundId: refund.refundId,
    reason: refund.reason,
  });
  await publish(
    em,
    PaymentRefundedSchema,
    create(PaymentRefundedSchema, {
      paymentId: payment.id,
      orderId: payment.orderId,
      amount: money(refund.amount, payment.currency),
      totalRefunded: money(total, payment.currency),
      refundId: refund.refundId,
    }),
  );
  return operation;
}

/** A failed capture, void or refund attempt, for the history (the payment itself is unchanged). */
export async function recordFailure(em: EntityManager, payment: PaymentRow, op: Omit<OperationInput, "succeeded" | "currency">): Promise<void> {
  await recordOperation(em, payment.id, { ...op, currency: payment.currency, succeeded: false });
  await releaseLease(em, payment.id);
}

export interface PageQuery {
  limit: number;
  /** The last id of the previous page (ids are UUIDv7: newest first is id descending). */
  after?: string | undefined;
  state?: PaymentStateName | undefined;
}

export async function listPayments(em: EntityManager, page: PageQuery): Promise<{ payments: PaymentView[]; more: boolean }> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (page.after) {
    conditions.push("id < ?");
    params.push(page.after);
  }
  if (page.state) {
    conditions.push("state = ?");
    params.push(page.state);
  }
  const rows = await query(
    em,
    `select ${paymentColumns} from payment ${conditions.length ? `where ${conditions.join(" and ")}` : ""} order by id desc limit ?`,
    [...params, page.limit + 1],
  );
  const payments = rows.slice(0, page.limit).map(toPayment);
  if (payments.length === 0) return { payments: [], more: false };
  // Operations of the whole page in one query.
  const operations = await query(
    em,
    `select payment_id, ${operationColumns} from payment_operation where payment_id = any(?::uuid[]) order by created_at, id`,
    [pgArray(payments.map((p) => p.id))],
  );
  const byPayment = new Map<string, OperationView[]>(payments.map((p) => [p.id, []]));
  for (const row of operations) byPayment.get(String(row.payment_id))!.push(toOperation(row));
  return { payments: payments.map((p) => ({ ...p, operations: byPayment.get(p.id)! })), more: rows.length > page.limit };
}
