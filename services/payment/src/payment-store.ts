// Payment rows and their state changes, each inside the caller's transaction and with its event in
// the outbox of that same transaction. The CHECK constraints of the schema back every rule here.
import { clockTimestamp, isUuid, keysetPage, outboxInsert, publish, sql, sqlText, typedQueries, type EntityManager, type Keyset, type Page, type PageCursor } from "@bazaar/platform";
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
import { paymentEntities } from "./entities.ts";

export type PaymentStateName = "pending" | "authorized" | "captured" | "partially_refunded" | "refunded" | "voided" | "failed";
export type OperationKind = "authorize" | "capture" | "void" | "refund";

/** ISO 4217's code for "no currency": the payment recorded when an order is voided before any authorisation. */
export const NO_CURRENCY = "XXX";

const tables = (em: EntityManager) => typedQueries(em, paymentEntities);
type Tables = ReturnType<typeof tables>;

const paymentSelection = [
  "id",
  "order_id as orderId",
  "state",
  "currency",
  "amount",
  "captured",
  "refunded",
  "payment_method as paymentMethod",
  "customer_id as customerId",
  "email",
  "gateway",
  "gateway_reference as gatewayReference",
  "failure_code as failureCode",
  "failure_message as failureMessage",
  "created_at as createdAt",
  "updated_at as updatedAt",
] as const;
/** Another call holds the payment while it talks to the gateway. */
const busy = sql<boolean>`coalesce(busy_until > clock_timestamp(), false)`.as("busy");

const operationSelection = [
  "id",
  "kind",
  "idempotency_key as idempotencyKey",
  "amount",
  "currency",
  "succeeded",
  "gateway_reference as gatewayReference",
  "failure_code as failureCode",
  "refund_id as refundId",
  "reason",
  "created_at as createdAt",
] as const;

const selectPayment = (db: Pick<Tables, "selectFrom">) => db.selectFrom("payment").select(paymentSelection).select(busy);
const selectOperation = (em: EntityManager) => tables(em).selectFrom("payment_operation").select(operationSelection);

type Narrowed<Row, Fields> = Omit<Row, keyof Fields> & Fields;
/** A payment row as the entity types it, its state narrowed. */
export type PaymentRow = Narrowed<Awaited<ReturnType<ReturnType<typeof selectPayment>["executeTakeFirstOrThrow"]>>, { state: PaymentStateName }>;
/** An operation row as the entity types it, its kind narrowed. */
export type OperationView = Narrowed<Awaited<ReturnType<ReturnType<typeof selectOperation>["executeTakeFirstOrThrow"]>>, { kind: OperationKind }>;

export interface PaymentView extends PaymentRow {
  operations: OperationView[];
}

// The state and kind columns hold only these names (CHECK constraints).
const asPayment = (row: Omit<PaymentRow, "state"> & { state: string }): PaymentRow => row as PaymentRow;
const asOperation = (row: Omit<OperationView, "kind"> & { kind: string }): OperationView => row as OperationView;

/** The payment held by this call (the lease it just took), not by another one. */
const heldByThisCall = (row: Omit<PaymentRow, "state"> & { state: string } | undefined) => (row ? { ...asPayment(row), busy: false } : undefined);

/** A lease of `leaseMs` from the statement's clock. */
const leaseUntil = (leaseMs: number) => sql<Date>`clock_timestamp() + make_interval(secs => ${leaseMs / 1000})`;

export const money = (amount: bigint, currency: string): Money => create(MoneySchema, { amountMinor: amount, currencyCode: currency });

/** The order's payment, locked for the rest of the transaction. */
export async function lockByOrder(em: EntityManager, orderId: string): Promise<PaymentRow | undefined> {
  const row = await selectPayment(tables(em)).where("order_id", "=", orderId).forUpdate().executeTakeFirst();
  return row && asPayment(row);
}

/** The payment a gateway knows by `reference` (or, before its reference was recorded, by order), locked. */
export async function lockByGatewayReference(em: EntityManager, gateway: string, reference: string, orderId?: string): Promise<PaymentRow | undefined> {
  const row = await selectPayment(tables(em))
    .where("gateway", "=", gateway)
    .where((eb) =>
      eb.or([eb("gateway_reference", "=", reference), eb.and([eb("gateway_reference", "=", ""), eb(sql<string>`order_id::text`, "=", orderId ?? "")])]),
    )
    .orderBy(sql`(gateway_reference = ${reference})`, "desc")
    .limit(1)
    .forUpdate()
    .executeTakeFirst();
  return row && asPayment(row);
}

export async function operationsOf(em: EntityManager, paymentId: string): Promise<OperationView[]> {
  return (await selectOperation(em).where("payment_id", "=", paymentId).orderBy("created_at").orderBy("id").execute()).map(asOperation);
}

export async function viewOf(em: EntityManager, payment: PaymentRow): Promise<PaymentView> {
  return { ...payment, operations: await operationsOf(em, payment.id) };
}

/** The order's payment with its operations. */
export async function findView(em: EntityManager, orderId: string): Promise<PaymentView | undefined> {
  const row = await selectPayment(tables(em)).where("order_id", "=", orderId).executeTakeFirst();
  return row && viewOf(em, asPayment(row));
}

type PendingInput = { orderId: string; amount: bigint; currency: string; paymentMethod: string; customerId: string; email: string; gateway: string };

/** The insert of a pending payment, nothing when the order has one already. */
const insertPayment = (em: EntityManager, input: PendingInput, busyUntil?: ReturnType<typeof leaseUntil>) =>
  tables(em)
    .insertInto("payment")
    .values({
      id: uuidv7(),
      order_id: input.orderId,
      state: "pending",
      currency: input.currency,
      amount: input.amount,
      payment_method: input.paymentMethod,
      customer_id: input.customerId,
      email: input.email,
      gateway: input.gateway,
      ...(busyUntil ? { busy_until: busyUntil } : {}),
    })
    .onConflict((oc) => oc.column("order_id").doNothing());

/** A new payment in `pending`, unless the order has one already (then nothing happens). */
export async function insertPending(
  em: EntityManager,
  input: PendingInput,
): Promise<void> {
  await insertPayment(em, input).execute();
}

/**
 * The common first authorisation in one statement: a new payment, pending and already held by this
 * call for `leaseMs` (as insertPending + takeLease would leave it). Undefined when the order has a
 * payment already: then the caller decides under the row lock.
 */
export async function insertPendingHeld(
  em: EntityManager,
  input: PendingInput,
  leaseMs: number,
): Promise<PaymentRow | undefined> {
  return heldByThisCall(await insertPayment(em, input, leaseUntil(leaseMs)).returning(paymentSelection).returning(busy).executeTakeFirst());
}

/**
 * The common capture in one statement: holds the order's payment for `leaseMs` when it is authorized
 * and nobody holds it. Undefined otherwise: then the caller decides under the row lock.
 */
export async function holdAuthorized(em: EntityManager, orderId: string, leaseMs: number): Promise<PaymentRow | undefined> {
  const row = await tables(em)
    .updateTable("payment")
    .set({ busy_until: leaseUntil(leaseMs) })
    .where("order_id", "=", orderId)
    .where("state", "=", "authorized")
    .where((eb) => eb.or([eb("busy_until", "is", null), eb("busy_until", "<=", clockTimestamp)]))
    .returning(paymentSelection)
    .returning(busy)
    .executeTakeFirst();
  return heldByThisCall(row);
}

/** The order has no payment and is voided: record a void, so a late authorisation is refused. */
export async function insertVoided(em: EntityManager, orderId: string, gateway: string, voidKey: string): Promise<void> {
  const id = uuidv7();
  await tables(em).insertInto("payment").values({ id, order_id: orderId, state: "voided", currency: NO_CURRENCY, amount: 0n, gateway }).execute();
  await recordOperation(em, id, { kind: "void", key: voidKey, amount: 0n, currency: NO_CURRENCY, succeeded: true });
  await publish(em, PaymentVoidedSchema, create(PaymentVoidedSchema, { paymentId: id, orderId }));
}

/** Holds the payment for `leaseMs` while this instance talks to the gateway. */
export async function takeLease(em: EntityManager, paymentId: string, leaseMs: number): Promise<void> {
  await tables(em).updateTable("payment").set({ busy_until: leaseUntil(leaseMs) }).where("id", "=", paymentId).execute();
}

export async function releaseLease(em: EntityManager, paymentId: string): Promise<void> {
  await tables(em).updateTable("payment").set({ busy_until: null }).where("id", "=", paymentId).execute();
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

/** Records an operation; a repeated one (same kind and key) updates its outcome instead of adding a row. */
export async function recordOperation(em: EntityManager, paymentId: string, op: OperationInput): Promise<OperationView> {
  return asOperation(await insertOperation(tables(em), paymentId, op).returning(operationSelection).executeTakeFirstOrThrow());
}

const insertOperation = (db: Pick<Tables, "insertInto">, paymentId: string, op: OperationInput) =>
  db
    .insertInto("payment_operation")
    .values({
      id: uuidv7(),
      payment_id: paymentId,
      kind: op.kind,
      idempotency_key: op.key,
      amount: op.amount,
      currency: op.currency,
      succeeded: op.succeeded,
      gateway_reference: op.gatewayReference ?? "",
      failure_code: op.failureCode ?? "",
      refund_id: op.refundId ?? null,
      reason: op.reason ?? "",
    })
    .onConflict((oc) =>
      oc.columns(["payment_id", "kind", "idempotency_key"]).doUpdateSet((eb) => ({
        succeeded: eb.ref("excluded.succeeded"),
        amount: eb.ref("excluded.amount"),
        gateway_reference: eb.ref("excluded.gateway_reference"),
        failure_code: eb.ref("excluded.failure_code"),
        reason: eb.ref("excluded.reason"),
        created_at: clockTimestamp,
      })),
    );

export async function findRefund(em: EntityManager, paymentId: string, refundId: string): Promise<OperationView | undefined> {
  const row = await selectOperation(em).where("payment_id", "=", paymentId).where("kind", "=", "refund").where("refund_id", "=", refundId).executeTakeFirst();
  return row && asOperation(row);
}

/** A change of the payment, which also ends this call's lease. */
const changePayment = (db: Pick<Tables, "updateTable">, paymentId: string) =>
  db.updateTable("payment").set({ busy_until: null, updated_at: clockTimestamp }).where("id", "=", paymentId);
type PaymentChange = (update: ReturnType<typeof changePayment>) => ReturnType<typeof changePayment>;

/**
 * The change, `recordOperation` and the event (`outboxInsert`) of the same payment in one statement
 * (one round trip): data-modifying CTEs, the event recorded only if the change found the payment.
 */
async function changeRecording(em: EntityManager, paymentId: string, change: PaymentChange, op: OperationInput, event: { sql: string; params: unknown[] }): Promise<void> {
  const statement = tables(em)
    .with("changed", (db) => change(changePayment(db, paymentId)).returning("id"))
    // A raw CTE body goes in as written: the parentheses are ours.
    .with("e", () => sql<Record<string, unknown>>`(${sqlText(event.sql, event.params)})`);
  await insertOperation(statement, paymentId, op).execute();
}

/** pending → authorized, with PaymentAuthorized. */
export async function markAuthorized(em: EntityManager, payment: PaymentRow, reference: string, key: string): Promise<void> {
  await changeRecording(
    em,
    payment.id,
    (update) => update.set({ state: "authorized", gateway_reference: reference }),
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
  await changePayment(tables(em), payment.id)
    .set({ state: "failed", failure_code: failure.code, failure_message: message, ...(failure.reference ? { gateway_reference: failure.reference } : {}) })
    .execute();
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
  await changePayment(tables(em), payment.id).set({ gateway_reference: reference }).execute();
}

/** authorized → captured (in full), with PaymentCaptured. */
export async function markCaptured(em: EntityManager, payment: PaymentRow, key: string): Promise<void> {
  await changeRecording(
    em,
    payment.id,
    (update) => update.set((eb) => ({ state: "captured", captured: eb.ref("amount") })),
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
  await changePayment(tables(em), payment.id).set({ state: "voided" }).execute();
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
  await changePayment(tables(em), payment.id)
    .set((eb) => ({ refunded: total, state: eb.case().when("captured", "=", total).then("refunded").else("partially_refunded").end() }))
    .execute();
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

/** Payments newest first (ids are UUIDv7). */
export const PAYMENTS_ORDER: Keyset = { columns: ["id"], direction: "desc", valid: ([id]) => isUuid(id!) };

export async function listPayments(em: EntityManager, page: PageCursor, state: PaymentStateName | undefined): Promise<Page<PaymentView>> {
  const select = selectPayment(tables(em)).$if(state !== undefined, (q) => q.where("state", "=", state!));
  const { rows, nextPageToken } = await keysetPage(select, page);
  if (rows.length === 0) return { rows: [], nextPageToken };
  // Operations of the whole page in one query.
  const operations = await tables(em)
    .selectFrom("payment_operation")
    .select(operationSelection)
    .select("payment_id")
    .where("payment_id", "in", rows.map((p) => p.id))
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  const byPayment = new Map<string, OperationView[]>(rows.map((p) => [p.id, []]));
  for (const { payment_id, ...operation } of operations) byPayment.get(payment_id)!.push(asOperation(operation));
  return { rows: rows.map((p) => ({ ...asPayment(p), operations: byPayment.get(p.id)! })), nextPageToken };
}
