// The built-in test gateway: deterministic answers by payment method (see payment.proto), its charges
// kept in the payment database by idempotency key, so a repeated key — even after a restart — gets the
// first answer. It stands for an outside system: it runs in transactions of its own.
import { setTimeout as sleep } from "node:timers/promises";
import { sql, typedQueries, type Database, type EntityManager } from "@bazaar/platform";
import { uuidv7 } from "uuidv7";
import { paymentEntities } from "./entities.ts";
import {
  GatewayRejectedError,
  GatewayUnavailableError,
  type AuthorizeInput,
  type AuthorizeResult,
  type PaymentGateway,
} from "./gateway.ts";

export interface TestGatewayOptions {
  database: Database;
  /** How long pm_test_slow takes to authorise (PAYMENT_TEST_SLOW_MS). */
  slowMs: number;
}

const tables = (em: EntityManager) => typedQueries(em, paymentEntities);
const chargeSelection = ["operation", "outcome", "reference", "amount", "decline_code", "message", "voided"] as const;
const selectCharge = (em: EntityManager) => tables(em).selectFrom("test_gateway_charge").select(chargeSelection);
type ChargeRow = Awaited<ReturnType<ReturnType<typeof selectCharge>["executeTakeFirstOrThrow"]>>;

/** A charge's columns other than its key. */
type ChargeValues = { operation: string; outcome: string; reference: string } & Partial<{
  charge: string;
  amount: bigint;
  currency: string;
  decline_code: string;
  message: string;
  voided: boolean;
}>;

const byKey = (em: EntityManager, key: string): Promise<ChargeRow | undefined> => selectCharge(em).where("idempotency_key", "=", key).executeTakeFirst();

/** Records an answer under `key` unless one is there already; returns the one that stands. */
async function record(em: EntityManager, key: string, values: ChargeValues): Promise<ChargeRow> {
  const inserted = await tables(em)
    .insertInto("test_gateway_charge")
    .values({ idempotency_key: key, ...values })
    .onConflict((oc) => oc.column("idempotency_key").doNothing())
    .returning(chargeSelection)
    .executeTakeFirst();
  return inserted ?? (await byKey(em, key))!;
}

function answer(row: ChargeRow): AuthorizeResult {
  if (row.outcome === "authorized") return { outcome: "authorized", reference: row.reference };
  const code = row.decline_code === "INSUFFICIENT_FUNDS" ? "INSUFFICIENT_FUNDS" : "PAYMENT_DECLINED";
  return { outcome: "declined", code, message: row.message, reference: row.reference };
}

const newReference = (prefix: "ch" | "re") => `test_${prefix}_${uuidv7()}`;

/** The answer the test payment methods stand for. */
async function decide(input: AuthorizeInput, slowMs: number): Promise<ChargeValues> {
  const base = { operation: "authorize", amount: input.amount, currency: input.currency, reference: newReference("ch") };
  const declined = (code: string, message: string): ChargeValues => ({ ...base, outcome: "declined", decline_code: code, message });
  switch (input.paymentMethod) {
    case "pm_test_ok":
      return { ...base, outcome: "authorized" };
    case "pm_test_slow":
      // Not tied to any caller's signal: the answer is recorded even when the caller gave up.
      await sleep(slowMs);
      return { ...base, outcome: "authorized" };
    case "pm_test_network_error":
      throw new GatewayUnavailableError("test gateway: pm_test_network_error cannot reach the gateway");
    case "pm_test_insufficient_funds":
      return declined("INSUFFICIENT_FUNDS", "Your card has insufficient funds.");
    case "pm_test_declined":
      return declined("PAYMENT_DECLINED", "Your card was declined.");
    default:
      return declined("PAYMENT_DECLINED", `${input.paymentMethod} is not a test payment method.`);
  }
}

/** The authorised charge `reference`, locked, so operations on one charge run one at a time. */
async function authorization(em: EntityManager, reference: string): Promise<ChargeRow> {
  const row = await selectCharge(em).where("reference", "=", reference).where("operation", "=", "authorize").forUpdate().executeTakeFirst();
  if (!row || row.outcome !== "authorized") throw new GatewayRejectedError("AUTHORIZATION_NOT_FOUND", `test gateway: no authorisation ${reference}`);
  return row;
}

export function createTestGateway(options: TestGatewayOptions): PaymentGateway {
  const { database, slowMs } = options;
  return {
    name: "test",

    async authorize(input) {
      const first = await byKey(database.em(), input.idempotencyKey);
      if (first) return answer(first);
      const values = await decide(input, slowMs);
      // One statement (and the read of the winner only when another call recorded first).
      return answer(await record(database.em(), input.idempotencyKey, values));
    },

    async capture(input) {
      await database.transaction(async (em) => {
        if (await byKey(em, input.idempotencyKey)) return;
        const charge = await authorization(em, input.reference);
        if (charge.voided) throw new GatewayRejectedError("AUTHORIZATION_VOIDED", `test gateway: ${input.reference} was voided`);
        if (charge.amount < input.amount) throw new GatewayRejectedError("AMOUNT_TOO_LARGE", "test gateway: capture above the authorised amount");
        await record(em, input.idempotencyKey, { operation: "capture", outcome: "captured", reference: input.reference, charge: input.reference, amount: input.amount });
      });
    },

    async void(input) {
      await database.transaction(async (em) => {
        if (await byKey(em, input.idempotencyKey)) return;
        const charge = await tables(em)
          .selectFrom("test_gateway_charge")
          .select("reference")
          .where("operation", "=", "authorize")
          .where((eb) => eb.or([eb("reference", "=", input.reference ?? ""), eb("idempotency_key", "=", input.authorizationKey)]))
          .forUpdate()
          .executeTakeFirst();
        if (charge) {
          const captured = await tables(em)
            .selectFrom("test_gateway_charge")
            .select("reference")
            .where("operation", "=", "capture")
            .where("charge", "=", charge.reference)
            .executeTakeFirst();
          if (captured) {
            throw new GatewayRejectedError("ALREADY_CAPTURED", `test gateway: ${charge.reference} was captured`);
          }
          await tables(em).updateTable("test_gateway_charge").set({ voided: true }).where("reference", "=", charge.reference).where("operation", "=", "authorize").execute();
        } else {
          // Never authorised (a crash before the call, say): voiding it is done, and a late
          // authorisation with that key is declined.
          await record(em, input.authorizationKey, {
            operation: "authorize",
            outcome: "declined",
            reference: newReference("ch"),
            decline_code: "PAYMENT_DECLINED",
            message: "The authorisation was voided.",
            voided: true,
          });
        }
        await record(em, input.idempotencyKey, { operation: "void", outcome: "voided", reference: charge?.reference ?? "", charge: charge?.reference ?? "" });
      });
    },

    async refund(input) {
      return database.transaction(async (em) => {
        const first = await byKey(em, input.idempotencyKey);
        if (first) return { reference: first.reference };
        await authorization(em, input.reference);
        // sum() of a bigint is numeric: read as text, compared as bigint.
        const totals = await tables(em)
          .selectFrom("test_gateway_charge")
          .select([
            sql<string>`coalesce(sum(amount) filter (where operation = 'capture'), 0)::text`.as("captured"),
            sql<string>`coalesce(sum(amount) filter (where operation = 'refund'), 0)::text`.as("refunded"),
          ])
          .where("charge", "=", input.reference)
          .executeTakeFirstOrThrow();
        if (BigInt(totals.refunded) + input.amount > BigInt(totals.captured)) {
          throw new GatewayRejectedError("REFUND_EXCEEDS_CAPTURED", "test gateway: refund above what was captured");
        }
        const row = await record(em, input.idempotencyKey, {
          operation: "refund",
          outcome: "refunded",
          reference: newReference("re"),
          charge: input.reference,
          amount: input.amount,
        });
        return { reference: row.reference };
      });
    },
  };
}
