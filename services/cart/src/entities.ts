// The cart's tables as MikroORM entities. Reads and writes use short SQL statements (a row lock on the
// cart, one upsert per line); the entities describe the schema for tools.
import { defineEntity, p } from "@mikro-orm/core";

/** A cart: a guest's (token) or a user's, in one currency, with an optional destination. */
export const Cart = defineEntity({
  name: "Cart",
  tableName: "cart",
  properties: {
    id: p.uuid().primary(),
    userId: p.text().fieldName("user_id").nullable(),
    tokenHash: p.text().fieldName("token_hash").nullable(),
    state: p.text(),
    currency: p.character().length(3),
    countryCode: p.character().length(2).fieldName("country_code").nullable(),
    region: p.text().defaultRaw("''::text"),
    postalCode: p.text().fieldName("postal_code").defaultRaw("''::text"),
    shippingOptionId: p.text().fieldName("shipping_option_id").nullable(),
    orderId: p.uuid().fieldName("order_id").nullable(),
    mergedInto: p.uuid().fieldName("merged_into").nullable(),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("now()"),
    updatedAt: p.datetime().fieldName("updated_at").defaultRaw("now()"),
  },
});

/** One SKU in a cart and how many. */
export const CartLine = defineEntity({
  name: "CartLine",
  tableName: "cart_line",
  properties: {
    cartId: p.uuid().primary().fieldName("cart_id"),
    sku: p.text().primary(),
    quantity: p.integer(),
    addedAt: p.datetime().fieldName("added_at").defaultRaw("clock_timestamp()"),
  },
});

/** A promotion code entered on a cart (upper case). */
export const CartPromotionCode = defineEntity({
  name: "CartPromotionCode",
  tableName: "cart_promotion_code",
  properties: {
    cartId: p.uuid().primary().fieldName("cart_id"),
    code: p.text().primary(),
    addedAt: p.datetime().fieldName("added_at").defaultRaw("clock_timestamp()"),
  },
});

export const cartEntities = [Cart, CartLine, CartPromotionCode];
