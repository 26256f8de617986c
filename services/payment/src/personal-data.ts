// A user's download of their data, payment's part: the payments of their orders (amounts, states, the
// method token and email given) and each one's operations. Never the gateway's failure internals
// beyond their code and message. A deleted account's payments keep their amounts and operations (the
// books and refunds need them) and lose the email given.
import { personalDataErasure, typedQueries, type ConsumerDefinition, type Database, type GatherPersonalData, withChildren } from "@bazaar/platform";
import { paymentEntities } from "./entities.ts";

export function personalDataConsumers(name: string): ConsumerDefinition[] {
  return [
    personalDataErasure(name, async (userId, em) => {
      await typedQueries(em, paymentEntities).updateTable("payment").set({ email: "", updated_at: new Date() }).where("customer_id", "=", userId).execute();
    }),
  ];
}

export function gatherPersonalData(database: Database): GatherPersonalData {
  return async (userId) => {
    const tables = typedQueries(database.em(), paymentEntities);
    const payments = await tables
      .selectFrom("payment")
      .select(["id", "order_id", "state", "currency", "amount", "captured", "refunded", "payment_method", "email", "gateway", "failure_code", "failure_message", "created_at", "updated_at"])
      .where("customer_id", "=", userId)
      .orderBy("created_at")
      .execute();
    const operations =
      payments.length === 0
        ? []
        : await tables
            .selectFrom("payment_operation")
            .select(["payment_id", "kind", "amount", "currency", "succeeded", "created_at"])
            .where("payment_id", "in", payments.map((p) => p.id))
            .orderBy("created_at")
            .execute();
    return { payments: withChildren(payments, operations, "payment_id", "operations") };
  };
}
