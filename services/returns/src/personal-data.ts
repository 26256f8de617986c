// A deleted account's returns stay (units and refunds are the books') without the person: no email,
// and no free-text comment, which may say anything about them.
import { personalDataErasure, typedQueries, type ConsumerDefinition } from "@bazaar/platform";
import { returnsEntities } from "./entities.ts";

export function personalDataConsumers(name: string): ConsumerDefinition[] {
  return [
    personalDataErasure(name, async (userId, em) => {
      await typedQueries(em, returnsEntities).updateTable("return_request").set({ email: "", comment: "", updated_at: new Date() }).where("user_id", "=", userId).execute();
    }),
  ];
}
