// A promotion as the console's form holds it (plain text per field) and back: the order-wide and
// item-level actions, buy X get Y, free shipping, and the conditions (minimum subtotal, the cart
// containing products, variants or categories with a minimum quantity). Products are named by slug
// in the form and by id in the contract: the caller resolves them (see `ProductNames`).
import { create } from "@bufbuild/protobuf";
import {
  ItemSelectorSchema,
  PromotionActionSchema,
  PromotionConditionsSchema,
  type ItemSelector,
  type Promotion,
  type PromotionAction,
  type PromotionConditions,
} from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { moneyListText, parseMoneyList } from "./ui.tsx";

export const actionKinds = {
  orderPercent: "Percent off the order",
  orderAmount: "Amount off the order",
  itemsPercent: "Percent off matching items",
  itemsAmount: "Amount off each matching item",
  buyXGetY: "Buy X get Y",
  freeShipping: "Free shipping",
} as const;
export type ActionKind = keyof typeof actionKinds;

/** Which lines: SKUs and product slugs as comma-separated text, categories by id. */
export interface SelectorDraft {
  skus: string;
  products: string;
  categories: string[];
}

export interface PromotionDraft {
  name: string;
  description: string;
  kind: ActionKind;
  /** Percent (order, items, buy X get Y): "12.5". */
  percent: string;
  /** Amounts (order, per item): "USD 5.00, EUR 4.50". */
  amounts: string;
  /** Minimum subtotal per currency, same form. */
  minimum: string;
  /** The cart must contain these … */
  contains: SelectorDraft;
  /** … at least this many units of them (empty: 1). */
  minimumQuantity: string;
  /** The discounted lines (items off) or what must be bought (buy X get Y). */
  items: SelectorDraft;
  buyQuantity: string;
  /** What is rewarded in buy X get Y (empty: the same as what is bought). */
  get: SelectorDraft;
  getQuantity: string;
  maxRewards: string;
  usageLimit: string;
  perCustomerLimit: string;
}

/** Product slugs to ids (refusing an unknown slug) and ids back to slugs. */
export interface ProductNames {
  ids(slugs: string[]): Promise<string[]>;
  slugs(ids: string[]): Promise<string[]>;
}

const emptySelector = (): SelectorDraft => ({ skus: "", products: "", categories: [] });

export const emptyDraft = (): PromotionDraft => ({
  name: "",
  description: "",
  kind: "orderPercent",
  percent: "",
  amounts: "",
  minimum: "",
  contains: emptySelector(),
  minimumQuantity: "",
  items: emptySelector(),
  buyQuantity: "",
  get: emptySelector(),
  getQuantity: "",
  maxRewards: "",
  usageLimit: "",
  perCustomerLimit: "",
});

const list = (text: string) => text.split(",").map((s) => s.trim()).filter(Boolean);
const bpsText = (bps: number) => String(bps / 100);
const countText = (n: number | bigint) => (n ? String(n) : "");

async function selectorDraft(selector: ItemSelector | undefined, names: ProductNames): Promise<SelectorDraft> {
  if (!selector) return emptySelector();
  return { skus: selector.skus.join(", "), products: (await names.slugs(selector.productIds)).join(", "), categories: [...selector.categoryIds] };
}

async function selectorOf(draft: SelectorDraft, names: ProductNames): Promise<ItemSelector> {
  return create(ItemSelectorSchema, { skus: list(draft.skus).map((s) => s.toUpperCase()), productIds: await names.ids(list(draft.products)), categoryIds: draft.categories });
}

const isEmpty = (s: ItemSelector) => s.skus.length + s.productIds.length + s.categoryIds.length === 0;

/** "12.5" → 1250 basis points; throws naming the field. */
function percentBps(text: string, field: string): number {
  const value = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0 || value > 100 || Math.abs(Math.round(value * 100) - value * 100) > 1e-9) {
    throw new Error(`${field}: "${text}" is not a percentage between 0.01 and 100`);
  }
  return Math.round(value * 100);
}

/** A whole number of at least `min`, or `fallback` when empty; throws naming the field. */
function count(text: string, field: string, min: number, fallback: number): number {
  if (text.trim() === "") return fallback;
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < min) throw new Error(`${field}: "${text}" is not a whole number of at least ${min}`);
  return value;
}

/** The form's values of a promotion read from the API. */
export async function draftOf(promotion: Promotion, names: ProductNames): Promise<PromotionDraft> {
  const draft: PromotionDraft = {
    ...emptyDraft(),
    name: promotion.name,
    description: promotion.description,
    usageLimit: countText(promotion.usageLimit),
    perCustomerLimit: countText(promotion.perCustomerLimit),
  };
  const conditions = promotion.conditions;
  if (conditions) {
    draft.minimum = moneyListText(conditions.minimumSubtotal);
    draft.contains = await selectorDraft(conditions.items, names);
    draft.minimumQuantity = countText(conditions.minimumQuantity);
  }
  const kind = promotion.action?.kind;
  switch (kind?.case) {
    case "orderPercentOff":
      return { ...draft, kind: "orderPercent", percent: bpsText(kind.value.percentBps) };
    case "orderAmountOff":
      return { ...draft, kind: "orderAmount", amounts: moneyListText(kind.value.amounts) };
    case "itemsOff": {
      const items = await selectorDraft(kind.value.items, names);
      return kind.value.percentBps
        ? { ...draft, kind: "itemsPercent", items, percent: bpsText(kind.value.percentBps) }
        : { ...draft, kind: "itemsAmount", items, amounts: moneyListText(kind.value.amountsPerUnit) };
    }
    case "buyXGetY": {
      const b = kind.value;
      return {
        ...draft,
        kind: "buyXGetY",
        items: await selectorDraft(b.buy, names),
        buyQuantity: String(b.buyQuantity),
        get: await selectorDraft(b.get, names),
        getQuantity: String(b.getQuantity),
        percent: bpsText(b.percentBps),
        maxRewards: countText(b.maxRewards),
      };
    }
    case "freeShipping":
      return { ...draft, kind: "freeShipping" };
    default:
      return draft;
  }
}

/** What the form says, as the contract's action (free shipping keeps the options `base` limits it to). */
export async function actionOf(draft: PromotionDraft, names: ProductNames, base?: PromotionAction): Promise<PromotionAction> {
  switch (draft.kind) {
    case "orderPercent":
      return create(PromotionActionSchema, { kind: { case: "orderPercentOff", value: { percentBps: percentBps(draft.percent, "Percent off") } } });
    case "orderAmount":
      return create(PromotionActionSchema, { kind: { case: "orderAmountOff", value: { amounts: parseMoneyList(draft.amounts, "Amount off") } } });
    case "itemsPercent":
      return create(PromotionActionSchema, { kind: { case: "itemsOff", value: { items: await selectorOf(draft.items, names), percentBps: percentBps(draft.percent, "Percent off") } } });
    case "itemsAmount":
      return create(PromotionActionSchema, { kind: { case: "itemsOff", value: { items: await selectorOf(draft.items, names), amountsPerUnit: parseMoneyList(draft.amounts, "Amount off") } } });
    case "buyXGetY": {
      const get = await selectorOf(draft.get, names);
      return create(PromotionActionSchema, {
        kind: {
          case: "buyXGetY",
          value: {
            buy: await selectorOf(draft.items, names),
            buyQuantity: count(draft.buyQuantity, "Buy quantity", 1, 1),
            get: isEmpty(get) ? undefined : get,
            getQuantity: count(draft.getQuantity, "Get quantity", 1, 1),
            percentBps: percentBps(draft.percent || "100", "Percent off"),
            maxRewards: count(draft.maxRewards, "Most rewards per order", 0, 0),
          },
        },
      });
    }
    case "freeShipping":
      return create(PromotionActionSchema, {
        kind: { case: "freeShipping", value: { shippingOptionIds: base?.kind.case === "freeShipping" ? [...base.kind.value.shippingOptionIds] : [] } },
      });
  }
}

/**
 * What the form says, as the contract's conditions (`everything` when none is set, as the API asks).
 * The conditions the form does not show (signed in only, first order only, customer roles,
 * currencies; set through the API) are kept from `base`, the promotion as read.
 */
export async function conditionsOf(draft: PromotionDraft, names: ProductNames, base?: PromotionConditions): Promise<PromotionConditions> {
  const minimumSubtotal = parseMoneyList(draft.minimum, "Minimum subtotal");
  const items = await selectorOf(draft.contains, names);
  const minimumQuantity = count(draft.minimumQuantity, "Minimum quantity", 1, 0);
  if (minimumQuantity > 0 && isEmpty(items)) throw new Error("Minimum quantity: say which products, SKUs or categories the cart must contain");
  const kept = {
    signedInOnly: base?.signedInOnly ?? false,
    firstOrderOnly: base?.firstOrderOnly ?? false,
    customerRoles: [...(base?.customerRoles ?? [])],
    currencies: [...(base?.currencies ?? [])],
  };
  const others = kept.signedInOnly || kept.firstOrderOnly || kept.customerRoles.length > 0 || kept.currencies.length > 0;
  const everything = minimumSubtotal.length === 0 && isEmpty(items) && !others;
  return create(PromotionConditionsSchema, { ...kept, everything, minimumSubtotal, items: isEmpty(items) ? undefined : items, minimumQuantity });
}

/** The fields UpdatePromotion is asked to change: everything the form edits. */
export const editedPaths = ["name", "description", "conditions", "action", "usage_limit", "per_customer_limit"];

/** The editable fields of a promotion from the form (create adds how it applies); `base`: as read, when editing. */
export async function promotionFields(draft: PromotionDraft, names: ProductNames, base?: Promotion) {
  return {
    name: draft.name.trim(),
    description: draft.description.trim(),
    action: await actionOf(draft, names, base?.action),
    conditions: await conditionsOf(draft, names, base?.conditions),
    usageLimit: BigInt(count(draft.usageLimit, "Usage limit", 1, 0)),
    perCustomerLimit: count(draft.perCustomerLimit, "Per customer limit", 1, 0),
  };
}
