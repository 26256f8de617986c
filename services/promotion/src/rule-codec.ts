// Between the contract and the engine: a stored promotion (conditions and action kept as the
// contract's JSON) as the engine's PromotionRule, and as the contract's Promotion message.
import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { MoneySchema, type Money } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import {
  PromotionActionSchema,
  PromotionConditionsSchema,
  PromotionSchema,
  PromotionStacking,
  PromotionState,
  type ItemSelector,
  type Promotion,
  type PromotionAction,
  type PromotionConditions,
} from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import type { Action, Conditions, PromotionRule, PromotionStateName, Selector, Stacking } from "./rules.ts";

/** A promotion row as read (typed by the entities). */
export interface PromotionRow {
  id: string;
  name: string;
  description: string;
  state: string;
  automatic: boolean;
  conditions: unknown;
  action: unknown;
  stacking: string;
  priority: number;
  starts_at: Date | null;
  ends_at: Date | null;
  usage_limit: bigint | null;
  per_customer_limit: number | null;
  budget: bigint | null;
  budget_currency: string | null;
  redemption_count: bigint;
  budget_spent: bigint;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const stateNames: Record<PromotionStateName, PromotionState> = {
  active: PromotionState.ACTIVE,
  paused: PromotionState.PAUSED,
  archived: PromotionState.ARCHIVED,
};

export const stackingOf = (stacking: PromotionStacking): Stacking => (stacking === PromotionStacking.EXCLUSIVE ? "exclusive" : "combinable");

export const conditionsJson = (conditions: PromotionConditions) => toJson(PromotionConditionsSchema, conditions) as Record<string, unknown>;
export const actionJson = (action: PromotionAction) => toJson(PromotionActionSchema, action) as Record<string, unknown>;
const conditionsOf = (row: PromotionRow) => fromJson(PromotionConditionsSchema, row.conditions as JsonValue);
const actionOf = (row: PromotionRow) => fromJson(PromotionActionSchema, row.action as JsonValue);

const selector = (s: ItemSelector | undefined): Selector => ({ skus: s?.skus ?? [], productIds: s?.productIds ?? [], categoryIds: s?.categoryIds ?? [] });
const byCurrency = (amounts: readonly Money[]): Record<string, bigint> => Object.fromEntries(amounts.map((m) => [m.currencyCode, m.amountMinor]));

export function engineConditions(c: PromotionConditions): Conditions {
  return {
    everything: c.everything,
    minimumSubtotal: byCurrency(c.minimumSubtotal),
    ...(c.items ? { items: selector(c.items) } : {}),
    minimumQuantity: c.minimumQuantity,
    signedInOnly: c.signedInOnly,
    firstOrderOnly: c.firstOrderOnly,
    customerRoles: c.customerRoles,
    currencies: c.currencies,
  };
}

export function engineAction(a: PromotionAction): Action {
  const kind = a.kind;
  switch (kind.case) {
    case "orderPercentOff":
      return { kind: "order_percent", bps: kind.value.percentBps };
    case "orderAmountOff":
      return { kind: "order_amount", amounts: byCurrency(kind.value.amounts) };
    case "itemsOff":
      return kind.value.percentBps > 0
        ? { kind: "items_percent", items: selector(kind.value.items), bps: kind.value.percentBps }
        : { kind: "items_amount", items: selector(kind.value.items), amounts: byCurrency(kind.value.amountsPerUnit) };
    case "freeShipping":
      return { kind: "free_shipping", optionIds: kind.value.shippingOptionIds };
    case "buyXGetY": {
      const b = kind.value;
      return {
        kind: "buy_x_get_y",
        buy: selector(b.buy),
        buyQuantity: b.buyQuantity,
        ...(b.get ? { get: selector(b.get) } : {}),
        getQuantity: b.getQuantity,
        bps: b.percentBps,
        maxRewards: b.maxRewards,
      };
    }
    default:
      // Validation refuses a promotion without an action; a stored one always has one.
      throw new TypeError("a promotion without an action");
  }
}

export function ruleOf(row: PromotionRow): PromotionRule {
  return {
    id: row.id,
    name: row.name,
    state: row.state as PromotionStateName,
    automatic: row.automatic,
    conditions: engineConditions(conditionsOf(row)),
    action: engineAction(actionOf(row)),
    stacking: row.stacking as Stacking,
    priority: row.priority,
    ...(row.starts_at ? { startsAt: row.starts_at } : {}),
    ...(row.ends_at ? { endsAt: row.ends_at } : {}),
    createdAt: row.created_at,
  };
}

export const money = (amountMinor: bigint, currencyCode: string): Money => create(MoneySchema, { amountMinor, currencyCode });

/** What a promotion message shows beside its row: its shared code, its generated codes and money given away. */
export interface PromotionFigures {
  code: string;
  generated: bigint;
  /** Σ current redemptions per currency. */
  givenAway: Money[];
}

/** The contract's Promotion. */
export function promotionMessage(row: PromotionRow, figures: PromotionFigures): Promotion {
  return create(PromotionSchema, {
    id: row.id,
    name: row.name,
    description: row.description,
    state: stateNames[row.state as PromotionStateName],
    automatic: row.automatic,
    code: figures.code,
    conditions: conditionsOf(row),
    action: actionOf(row),
    stacking: row.stacking === "exclusive" ? PromotionStacking.EXCLUSIVE : PromotionStacking.COMBINABLE,
    priority: row.priority,
    ...(row.starts_at ? { startTime: timestampFromDate(row.starts_at) } : {}),
    ...(row.ends_at ? { endTime: timestampFromDate(row.ends_at) } : {}),
    usageLimit: row.usage_limit ?? 0n,
    perCustomerLimit: row.per_customer_limit ?? 0,
    ...(row.budget !== null ? { budget: money(row.budget, row.budget_currency!) } : {}),
    redemptionCount: row.redemption_count,
    givenAway: figures.givenAway,
    generatedCodeCount: figures.generated,
    etag: String(row.version),
    createTime: timestampFromDate(row.created_at),
    updateTime: timestampFromDate(row.updated_at),
  });
}

export const dateOf = timestampDate;
