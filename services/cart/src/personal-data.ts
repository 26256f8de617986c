// A user's download of their data, cart's part: their active cart with its lines and entered codes.
// Carts already checked out live on as orders (order's part); a guest's cart is no account's.
import { typedQueries, type Database, type GatherPersonalData } from "@bazaar/platform";
import { cartEntities } from "./entities.ts";

export function gatherPersonalData(database: Database): GatherPersonalData {
  return async (userId) => {
    const tables = typedQueries(database.em(), cartEntities);
    const cart = await tables
      .selectFrom("cart")
      .select(["id", "currency", "country_code", "region", "postal_code", "shipping_option_id", "created_at", "updated_at"])
      .where("user_id", "=", userId)
      .where("state", "=", "active")
      .executeTakeFirst();
    if (!cart) return { active_cart: null };
    const lines = await tables.selectFrom("cart_line").select(["sku", "quantity", "added_at"]).where("cart_id", "=", cart.id).orderBy("added_at").execute();
    const codes = await tables.selectFrom("cart_promotion_code").select(["code", "added_at"]).where("cart_id", "=", cart.id).orderBy("added_at").execute();
    return { active_cart: { ...cart, lines, promotion_codes: codes } };
  };
}
