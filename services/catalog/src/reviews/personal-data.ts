// A deleted account's reviews stay (ratings and words are the shop's) without the author link, and
// what it bought is forgotten.
import { personalDataErasure, sql, typedQueries, type ConsumerDefinition } from "@bazaar/platform";
import { catalogEntities } from "../entities.ts";

/** Prefix of a deleted author's placeholder (`erased:<review id>`); never a user id. */
export const ERASED_AUTHOR = "erased:";

export function personalDataConsumers(name: string): ConsumerDefinition[] {
  return [
    personalDataErasure(name, async (userId, em) => {
      const tables = typedQueries(em, catalogEntities);
      // One review per user and product is unique: each erased author becomes a value of its own.
      await tables.updateTable("review").set({ user_id: sql<string>`${ERASED_AUTHOR} || id` }).where("user_id", "=", userId).execute();
      await tables.deleteFrom("purchase").where("user_id", "=", userId).execute();
    }),
  ];
}
