// The promotion form, for creating and for editing: name and description, the action (order-wide or
// item-level percent or amount off, buy X get Y, free shipping), the conditions (minimum subtotal,
// products / SKUs / categories the cart must contain with a minimum quantity) and the limits. The
// fields shown follow the action chosen.
import { useState, type FormEvent, type ReactNode } from "react";
import { actionKinds, type ActionKind, type PromotionDraft, type SelectorDraft } from "./promotion-draft.ts";
import { FormRow } from "./ui.tsx";

export interface CategoryOption {
  id: string;
  name: string;
  depth: number;
}

export function PromotionForm({ initial, categories, legend, submitLabel, busy, disabled, onSubmit, children, footer }: {
  initial: PromotionDraft;
  /** An archived promotion cannot change. */
  disabled?: boolean;
  categories: CategoryOption[];
  legend: string;
  submitLabel: string;
  busy: boolean;
  /** Resolves true when the form may start again empty (a created promotion). */
  onSubmit: (draft: PromotionDraft) => Promise<boolean>;
  /** Fields before the action (how a new promotion applies). */
  children?: ReactNode;
  /** Refusals and outcomes, above the button. */
  footer?: ReactNode;
}) {
  const [draft, setDraft] = useState(initial);
  const set = <K extends keyof PromotionDraft>(key: K, value: PromotionDraft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const text = (key: "name" | "description" | "percent" | "amounts" | "minimum" | "minimumQuantity" | "buyQuantity" | "getQuantity" | "maxRewards" | "usageLimit" | "perCustomerLimit") => ({
    value: draft[key],
    onChange: (event: { target: { value: string } }) => set(key, event.target.value),
  });
  const { kind } = draft;
  const percent = kind === "orderPercent" || kind === "itemsPercent" || kind === "buyXGetY";
  const amounts = kind === "orderAmount" || kind === "itemsAmount";
  const items = kind === "itemsPercent" || kind === "itemsAmount" || kind === "buyXGetY";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (await onSubmit(draft)) setDraft(initial);
  }

  return (
    <form onSubmit={submit} className="editor">
      <fieldset disabled={disabled}>
        <legend>{legend}</legend>
        <div className="panels">
          <FormRow id="promo-name" label="Name" required maxLength={100} {...text("name")} />
          <FormRow id="promo-description" label="Description (staff only)" {...text("description")} />
          {children}
          <FormRow id="promo-kind" label="Discount">
            <select id="promo-kind" value={kind} onChange={(e) => set("kind", e.target.value as ActionKind)}>
              {Object.entries(actionKinds).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
            </select>
          </FormRow>
          {percent && (
            <FormRow id="promo-percent" label={kind === "buyXGetY" ? "Percent off the rewarded units" : "Percent off"} inputMode="decimal" required={kind !== "buyXGetY"}
              hint={kind === "buyXGetY" ? "100 (or empty) makes them free." : "e.g. 10 or 12.5"} {...text("percent")} />
          )}
          {amounts && <FormRow id="promo-amounts" label={kind === "itemsAmount" ? "Amount off each unit" : "Amount off"} required hint='Per currency, e.g. "USD 5.00, EUR 4.50".' {...text("amounts")} />}
          {kind === "buyXGetY" && (
            <>
              <FormRow id="promo-buy-quantity" label="Buy quantity" type="number" min={1} max={1000} required {...text("buyQuantity")} />
              <FormRow id="promo-get-quantity" label="Get quantity" type="number" min={1} max={1000} required {...text("getQuantity")} />
              <FormRow id="promo-max-rewards" label="Most rewards per order" type="number" min={0} hint="Empty: no limit." {...text("maxRewards")} />
            </>
          )}
        </div>
        {items && (
          <SelectorFields id="promo-items" legend={kind === "buyXGetY" ? "Bought" : "Discounted"} hint={kind === "buyXGetY" ? "What must be bought; nothing listed: any item." : "The lines discounted; nothing listed: every line."}
            value={draft.items} onChange={(v) => set("items", v)} categories={categories} />
        )}
        {kind === "buyXGetY" && (
          <SelectorFields id="promo-get" legend="Rewarded" hint="The units discounted (the cheapest first); nothing listed: the same as what is bought." value={draft.get} onChange={(v) => set("get", v)} categories={categories} />
        )}
        <fieldset className="conditions">
          <legend>Conditions</legend>
          <div className="panels">
            <FormRow id="promo-minimum" label="Minimum subtotal" hint='Per currency, e.g. "USD 50.00"; empty: none.' {...text("minimum")} />
            <FormRow id="promo-minimum-quantity" label="Minimum quantity" type="number" min={1} max={999} hint="Units of what the cart must contain (empty: 1)." {...text("minimumQuantity")} />
          </div>
          <SelectorFields id="promo-contains" legend="Cart contains" hint="Nothing listed: no such condition. With no condition at all the promotion applies to every cart."
            value={draft.contains} onChange={(v) => set("contains", v)} categories={categories} />
        </fieldset>
        <div className="panels">
          <FormRow id="promo-limit" label="Usage limit" type="number" min={1} hint="Redemptions in all; empty: none." {...text("usageLimit")} />
          <FormRow id="promo-customer-limit" label="Per customer limit" type="number" min={1} hint="Empty: none." {...text("perCustomerLimit")} />
        </div>
        {footer}
        <button type="submit" disabled={busy || disabled}>{submitLabel}</button>
      </fieldset>
    </form>
  );
}

/** Which lines: SKUs, products by slug, categories (a line's categories include its category's ancestors). */
function SelectorFields({ id, legend, hint, value, onChange, categories }: { id: string; legend: string; hint: string; value: SelectorDraft; onChange: (value: SelectorDraft) => void; categories: CategoryOption[] }) {
  return (
    <fieldset aria-describedby={`${id}-hint`}>
      <legend>{legend}</legend>
      <p id={`${id}-hint`} className="hint">{hint}</p>
      <div className="panels">
        <FormRow id={`${id}-skus`} label={`${legend}: SKUs`} placeholder="CAN5-A, CAN9-A" value={value.skus} onChange={(e) => onChange({ ...value, skus: e.target.value })} />
        <FormRow id={`${id}-products`} label={`${legend}: products`} placeholder="brass-can, hose" hint="Product slugs, comma-separated." value={value.products} onChange={(e) => onChange({ ...value, products: e.target.value })} />
        <FormRow id={`${id}-categories`} label={`${legend}: categories`}>
          <select id={`${id}-categories`} multiple size={Math.min(4, Math.max(2, categories.length))} value={value.categories}
            onChange={(e) => onChange({ ...value, categories: [...e.target.selectedOptions].map((o) => o.value) })}>
            {categories.map((c) => <option key={c.id} value={c.id}>{"— ".repeat(c.depth)}{c.name}</option>)}
          </select>
        </FormRow>
      </div>
    </fieldset>
  );
}
