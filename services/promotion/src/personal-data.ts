// A user's download of their data, promotion's part: the promotions their orders redeemed (code,
// amount, when, and whether released again).
import { typedQueries, type Database, type GatherPersonalData } from "@bazaar/platform";
import { promotionEntities } from "./entities.ts";

export function gatherPersonalData(database: Database): GatherPersonalData {
  return async (userId) => ({
    redemptions: await typedQueries(database.em(), promotionEntities)
      .selectFrom("redemption")
      .leftJoin("promotion", "promotion.id", "redemption.promotion_id")
      .select(["redemption.id", "redemption.order_id", "redemption.promotion_id", "promotion.name as promotion_name", "redemption.code", "redemption.currency", "redemption.amount", "redemption.created_at", "redemption.released_at"])
      .where("redemption.customer_id", "=", userId)
      .orderBy("redemption.created_at")
      .execute(),
  });
}
