// A deleted account's orders stay (amounts, lines, statuses: the books need them) without the person:
// no email (a placeholder of no one), and of the shipping address only the country.
import { anonymisedAddress, personalDataErasure, typedQueries, type ConsumerDefinition } from "@bazaar/platform";
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
