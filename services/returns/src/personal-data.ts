// A deleted account's returns stay (units and refunds are the books') without the person: no email,
// and no free-text comment, which may say anything about them. A user's download of their data gets
// their return requests with their lines.
import { personalDataErasure, typedQueries, type ConsumerDefinition, type Database, type GatherPersonalData, withChildren } from "@bazaar/platform";
import { returnsEntities } from "./entities.ts";

export function personalDataConsumers(name: string): ConsumerDefinition[] {
  return [
    personalDataErasure(name, async (userId, em) => {
      await typedQueries(em, returnsEntities).updateTable("return_request").set({ email: "", comment: "", updated_at: new Date() }).where("user_id", "=", userId).execute();
    }),
  ];
}

/** The user's return requests, oldest first, each with its lines (refunds in minor units). */
export function gatherPersonalData(database: Database): GatherPersonalData {
  return async (userId) => {
    const tables = typedQueries(database.em(), returnsEntities);
    const returns = await tables
      .selectFrom("return_request")
      .select(["id", "order_id", "email", "currency", "status", "reason", "comment", "refund_amount", "include_shipping", "label_carrier", "label_tracking_number", "created_at", "updated_at"])
      .where("user_id", "=", userId)
      .orderBy("created_at")
      .execute();
    const lines =
      returns.length === 0
        ? []
        : await tables
            .selectFrom("return_line")
            .select(["return_id", "sku", "quantity", "received_resellable", "received_damaged", "refund_amount"])
            .where("return_id", "in", returns.map((r) => r.id))
            .orderBy("sku")
            .execute();
    return { returns: withChildren(returns, lines, "return_id", "lines") };
  };
}
