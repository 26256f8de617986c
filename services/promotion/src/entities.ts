// Promotion's tables as MikroORM entities: the typed schema reads are written against. The limits'
// moves are conditional SQL updates (redemptions.ts); CHECKs and foreign keys are the migrations'.
import { defineEntity, p } from "@mikro-orm/core";

/** A promotion: conditions and action as the contract's JSON, limits and figures as columns. */
export const Promotion = defineEntity({
  name: "Promotion",
  tableName: "promotion",
  indexes: [
    { name: "promotion_newest", expression: "create index promotion_newest on promotion (id desc)" },
    { name: "promotion_automatic", expression: "create index promotion_automatic on promotion (state) where automatic" },
  ],
  properties: {
    id: p.uuid().primary(),
    name: p.text(),
    description: p.text().defaultRaw("''::text"),
    state: p.text(),
    automatic: p.boolean(),
    conditions: p.json<Record<string, unknown>>(),
    action: p.json<Record<string, unknown>>(),
    stacking: p.text(),
    priority: p.integer(),
    startsAt: p.datetime().fieldName("starts_at").nullable(),
    endsAt: p.datetime().fieldName("ends_at").nullable(),
    usageLimit: p.bigint("bigint").fieldName("usage_limit").nullable(),
    perCustomerLimit: p.integer().fieldName("per_customer_limit").nullable(),
    budget: p.bigint("bigint").nullable(),
    budgetCurrency: p.text().fieldName("budget_currency").nullable(),
    redemptionCount: p.bigint("bigint").fieldName("redemption_count").defaultRaw("0"),
    budgetSpent: p.bigint("bigint").fieldName("budget_spent").defaultRaw("0"),
    version: p.integer().defaultRaw("1"),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
    updatedAt: p.datetime().fieldName("updated_at").defaultRaw("clock_timestamp()"),
  },
});

/** A code, upper case: shared (many orders) or single-use (taken by one order). */
export const PromotionCode = defineEntity({
  name: "PromotionCode",
  tableName: "promotion_code",
  indexes: [
    { name: "promotion_code_by_promotion", properties: ["promotionId", "code"] },
    { name: "promotion_code_by_order", expression: "create index promotion_code_by_order on promotion_code (order_id) where order_id is not null" },
  ],
  properties: {
    code: p.text().primary(),
    promotionId: p.uuid().fieldName("promotion_id"),
    singleUse: p.boolean().fieldName("single_use"),
    orderId: p.uuid().fieldName("order_id").nullable(),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
  },
});

/** An order's use of a promotion. */
export const Redemption = defineEntity({
  name: "Redemption",
  tableName: "redemption",
  uniques: [{ name: "redemption_once", properties: ["orderId", "promotionId"] }],
  indexes: [{ name: "redemption_by_promotion", expression: "create index redemption_by_promotion on redemption (promotion_id, id desc)" }],
  properties: {
    id: p.uuid().primary(),
    promotionId: p.uuid().fieldName("promotion_id"),
    orderId: p.uuid().fieldName("order_id"),
    customerId: p.text().fieldName("customer_id").defaultRaw("''::text"),
    code: p.text().defaultRaw("''::text"),
    currency: p.text(),
    amount: p.bigint("bigint"),
    releasedAt: p.datetime().fieldName("released_at").nullable(),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
  },
});

/** Uses of a promotion by one customer. */
export const CustomerUse = defineEntity({
  name: "CustomerUse",
  tableName: "customer_use",
  properties: {
    promotionId: p.uuid().primary().fieldName("promotion_id"),
    customerId: p.text().primary().fieldName("customer_id"),
    uses: p.integer(),
  },
});

/** An order a customer placed (from order's events). */
export const CustomerOrder = defineEntity({
  name: "CustomerOrder",
  tableName: "customer_order",
  properties: {
    customerId: p.text().primary().fieldName("customer_id"),
    orderId: p.uuid().primary().fieldName("order_id"),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
  },
});

/** The order that took a customer's first-order promotion. */
export const FirstOrder = defineEntity({
  name: "FirstOrder",
  tableName: "first_order",
  properties: {
    customerId: p.text().primary().fieldName("customer_id"),
    orderId: p.uuid().fieldName("order_id"),
  },
});

export const promotionEntities = [Promotion, PromotionCode, Redemption, CustomerUse, CustomerOrder, FirstOrder];
