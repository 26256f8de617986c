// A deleted account's reviews stay (ratings and words are the shop's) without the author link, and
// what it bought is forgotten. A user's download of their data gets the reviews they wrote and the
// purchases that make them verified.
import { personalDataErasure, sql, typedQueries, type ConsumerDefinition, type Database, type GatherPersonalData } from "@bazaar/platform";
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

/** The reviews the user wrote (with the product's name) and the purchases catalog knows of, oldest first. */
export function gatherPersonalData(database: Database): GatherPersonalData {
  return async (userId) => {
    const tables = typedQueries(database.em(), catalogEntities);
    const reviews = await tables
      .selectFrom("review")
      .leftJoin("product", "product.id", "review.product_id")
      .select(["review.id", "review.product_id", "product.name as product_name", "review.rating", "review.title", "review.body", "review.verified_purchase", "review.created_at"])
      .where("review.user_id", "=", userId)
      .orderBy("review.created_at")
      .execute();
    const purchases = await tables
      .selectFrom("purchase")
      .select(["order_id", "product_id", "purchased_at"])
      .where("user_id", "=", userId)
      .orderBy("purchased_at")
      .execute();
    return { reviews, purchases };
  };
}
