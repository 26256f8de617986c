// A deleted account's orders stay (amounts, lines, statuses: the books need them) without the person:
// no email (a placeholder of no one), and of the shipping address only the country. A user's download
// of their data gets their orders with lines, amounts and addresses.
import { anonymisedAddress, personalDataErasure, typedQueries, type ConsumerDefinition, type Database, type GatherPersonalData, withChildren } from "@bazaar/platform";
import { orderEntities } from "./entities.ts";

/** What an erased order's email becomes: no one's (the .invalid domain never resolves), and the column's rules hold. */
export const ERASED_EMAIL = "erased@erased.invalid";

export function personalDataConsumers(name: string): ConsumerDefinition[] {
  return [
    personalDataErasure(name, async (userId, em) => {
      await typedQueries(em, orderEntities)
        .updateTable("orders")
        .set({ email: ERASED_EMAIL, shipping_address: anonymisedAddress("shipping_address"), updated_at: new Date() })
        .where("user_id", "=", userId)
        .execute();
    }),
  ];
}

/** The user's orders, oldest first, each with its lines (amounts in minor units); no internal bookkeeping (leases, token hashes). */
export function gatherPersonalData(database: Database): GatherPersonalData {
  return async (userId) => {
    const tables = typedQueries(database.em(), orderEntities);
    const orders = await tables
      .selectFrom("orders")
      .select([
        "id",
        "email",
        "status",
        "payment_status",
        "currency",
        "subtotal",
        "discount",
        "shipping",
        "tax",
        "total",
        "captured",
        "refunded",
        "shipping_address",
        "shipping_option_id",
        "payment_method",
        "promotions",
        "cancel_reason",
        "created_at",
        "updated_at",
      ])
      .where("user_id", "=", userId)
      .orderBy("id")
      .execute();
    const lines =
      orders.length === 0
        ? []
        : await tables
            .selectFrom("order_line")
            .select(["order_id", "position", "sku", "product_id", "product_name", "options", "quantity", "unit_price", "line_total"])
            .where("order_id", "in", orders.map((order) => order.id))
            .orderBy("order_id")
            .orderBy("position")
            .execute();
    return {
      orders: withChildren(orders, lines, "order_id", "lines"),
    };
  };
}
