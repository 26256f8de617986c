// Promotions: the list by state (keyset pages) with redemptions and money given away; creating one
// (automatic, with a shared code, or with generated codes) and editing it (UpdatePromotion with its
// etag: an edit on a stale version is refused with "changed by someone else — reload") with the
// form of promotion-form.tsx — order-wide or item-level percent or amount off, buy X get Y, free
// shipping, a minimum subtotal, products / SKUs / categories the cart must contain; pause and
// resume, archive (confirmed), generating single-use codes and exporting them as CSV, and a
// promotion's redemptions.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { Code, ConnectError } from "@connectrpc/connect";
import { PromotionState, type Promotion } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { draftOf, editedPaths, emptyDraft, promotionFields, type ProductNames } from "./promotion-draft.ts";
import { PromotionForm, type CategoryOption } from "./promotion-form.tsx";
import { isAbsent } from "./sections.ts";
import type { StaffClient } from "./session.ts";
import { ConfirmButton, enumName, formatMoney, formatTime, FormRow, Pager, Refusal, useAction, useLoad, usePages, useStaff } from "./ui.tsx";

const states = [PromotionState.ACTIVE, PromotionState.PAUSED, PromotionState.ARCHIVED];

export function PromotionsPage() {
  const staff = useStaff();
  const [state, setState] = useState<PromotionState | 0>(0);
  const pages = usePages(String(state));
  const promotions = useLoad(() => staff.promotions.listPromotions({ state, pageSize: 25, pageToken: pages.token }), [state, pages.token]);
  const action = useAction();
  const run = (work: () => Promise<unknown>) => void action.run(work).then(promotions.reload);
  return (
    <section>
      <h1>Promotions</h1>
      <CreatePromotion onCreated={promotions.reload} />
      <div className="filters">
        <FormRow id="promotion-state" label="State">
          <select id="promotion-state" value={state} onChange={(e) => setState(Number(e.target.value) as PromotionState)}>
            <option value={0}>Any</option>
            {states.map((s) => <option key={s} value={s}>{enumName(PromotionState, s)}</option>)}
          </select>
        </FormRow>
      </div>
      <Refusal error={promotions.error ?? action.error} />
      <table className="data" aria-busy={promotions.loading}>
        <caption className="visually-hidden">Promotions</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">How</th><th scope="col">State</th><th scope="col">Redemptions</th><th scope="col">Given away</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {promotions.data?.promotions.map((p) => (
            <tr key={p.id}>
              <td><Link to={`/promotions/${p.id}`}>{p.name}</Link></td>
              <td>{howText(p)}</td>
              <td>{enumName(PromotionState, p.state)}</td>
              <td>{p.redemptionCount.toString()}{p.usageLimit > 0n ? ` / ${p.usageLimit}` : ""}</td>
              <td>{p.givenAway.map(formatMoney).join(", ") || "—"}</td>
              <td>
                <div className="actions">
                  {p.state !== PromotionState.ARCHIVED && (
                    <button type="button" className="secondary" disabled={action.busy} onClick={() => run(() => staff.promotions.pausePromotion({ promotionId: p.id, paused: p.state === PromotionState.ACTIVE }))}>
                      {p.state === PromotionState.ACTIVE ? `Pause ${p.name}` : `Resume ${p.name}`}
                    </button>
                  )}
                  {p.state !== PromotionState.ARCHIVED && (
                    <ConfirmButton label={`Archive ${p.name}`} question={`Archive ${p.name}? It never applies again.`} confirmLabel="Archive promotion" disabled={action.busy}
                      onConfirm={() => run(() => staff.promotions.archivePromotion({ promotionId: p.id }))} />
                  )}
                </div>
              </td>
            </tr>
          ))}
          {promotions.data && promotions.data.promotions.length === 0 && <tr><td colSpan={6}>No promotions.</td></tr>}
        </tbody>
      </table>
      <Pager pages={pages} nextToken={promotions.data?.nextPageToken} />
    </section>
  );
}

/** Product slugs (what staff know) to ids (what promotions hold) and back, through the catalog. */
function productNames(staff: StaffClient): ProductNames {
  return {
    ids: (slugs) =>
      Promise.all(slugs.map((slug) =>
        staff.catalog.getProduct({ slug: slug.toLowerCase() }).then(
          (r) => r.product!.id,
          (error: unknown) => {
            throw error instanceof ConnectError && error.code === Code.NotFound ? new Error(`Products: there is no product with the slug "${slug}"`) : error;
          },
        ),
      )),
    // An id whose product is gone (or a catalog away) is shown as the id itself.
    slugs: (ids) => Promise.all(ids.map((id) => staff.catalog.getProduct({ id }).then((r) => r.product?.slug ?? id, () => id))),
  };
}

/** The category tree for the item pickers; empty while the catalog is absent. */
const loadCategories = (staff: StaffClient): Promise<CategoryOption[]> =>
  staff.catalog.listCategories({ recursive: true }).then((r) => r.categories, (error: unknown) => {
    if (isAbsent(error)) return [];
    throw error;
  });

const howText = (p: Promotion) => (p.automatic ? "automatic" : p.code ? `code ${p.code}` : `${p.generatedCodeCount} generated codes`);

function CreatePromotion({ onCreated }: { onCreated: () => void }) {
  const staff = useStaff();
  const action = useAction();
  const categories = useLoad(() => loadCategories(staff), []);
  const [done, setDone] = useState<string>();
  const [how, setHow] = useState("code");
  const [code, setCode] = useState("");
  const initial = useMemo(emptyDraft, []);
  const names = useMemo(() => productNames(staff), [staff]);
  const submit = async (draft: ReturnType<typeof emptyDraft>) => {
    setDone(undefined);
    const ok = await action.run(async () => {
      const fields = await promotionFields(draft, names);
      await staff.promotions.createPromotion({ promotion: { ...fields, automatic: how === "automatic", code: how === "code" ? code.trim() : "" } });
      setDone(`Created ${fields.name}.`);
    });
    if (ok) {
      setCode("");
      onCreated();
    }
    return ok;
  };
  return (
    <PromotionForm initial={initial} categories={categories.data ?? []} legend="New promotion" submitLabel="Create promotion" busy={action.busy} onSubmit={submit}
      footer={<><Refusal error={action.error ?? categories.error} />{done && <p role="status">{done}</p>}</>}>
      <FormRow id="promo-how" label="Applies">
        <select id="promo-how" value={how} onChange={(e) => setHow(e.target.value)}>
          <option value="code">With a shared code</option>
          <option value="automatic">Automatically</option>
          <option value="generated">With generated single-use codes</option>
        </select>
      </FormRow>
      {how === "code" && <FormRow id="promo-code" label="Shared code" required pattern="[A-Za-z0-9_\-]{1,64}" value={code} onChange={(e) => setCode(e.target.value)} />}
    </PromotionForm>
  );
}

/** A promotion: what it is, its edit form, its codes and redemptions. */
export function PromotionPage() {
  const { promotionId = "" } = useParams();
  const staff = useStaff();
  const names = useMemo(() => productNames(staff), [staff]);
  const [saved, setSaved] = useState<string>();
  const loaded = useLoad(async () => {
    const { promotion } = await staff.promotions.getPromotion({ promotionId });
    const [categories, draft] = await Promise.all([loadCategories(staff), draftOf(promotion!, names)]);
    return { promotion: promotion!, categories, draft };
  }, [promotionId]);
  if (loaded.error) return <Refusal error={loaded.error} />;
  if (!loaded.data) return <p aria-busy="true">Loading…</p>;
  const { promotion, categories, draft } = loaded.data;
  return (
    <section>
      <div className="title-row">
        <h1>{promotion.name}</h1>
        <Link to="/promotions">All promotions</Link>
      </div>
      <p className="hint">
        {enumName(PromotionState, promotion.state)} · {howText(promotion)} · {promotion.redemptionCount.toString()} redemptions · created {formatTime(promotion.createTime)} · version {promotion.etag}
      </p>
      {/* A new key after each load: the form starts again from what the server holds. */}
      <EditPromotion key={promotion.etag} promotion={promotion} initial={draft} categories={categories} names={names}
        saved={saved} onSaved={() => { setSaved(`Saved ${promotion.name}.`); loaded.reload(); }} reload={() => { setSaved(undefined); loaded.reload(); }} />
      <PromotionDetail promotion={promotion} />
    </section>
  );
}

function EditPromotion({ promotion, initial, categories, names, saved, onSaved, reload }: {
  promotion: Promotion;
  initial: ReturnType<typeof emptyDraft>;
  categories: CategoryOption[];
  names: ProductNames;
  saved?: string;
  onSaved: () => void;
  reload: () => void;
}) {
  const staff = useStaff();
  const action = useAction();
  const archived = promotion.state === PromotionState.ARCHIVED;
  const submit = async (draft: ReturnType<typeof emptyDraft>) => {
    const ok = await action.run(async () => {
      const fields = await promotionFields(draft, names, promotion);
      await staff.promotions.updatePromotion({ promotion: { ...fields, id: promotion.id }, updateMask: { paths: editedPaths }, etag: promotion.etag });
    });
    if (ok) onSaved();
    return false;
  };
  return (
    <PromotionForm initial={initial} categories={categories} legend={archived ? "Archived: it cannot change" : "Edit"} submitLabel="Save promotion" busy={action.busy} disabled={archived} onSubmit={submit}
      footer={<><Refusal error={action.error} onReload={() => { action.clear(); reload(); }} />{saved && !action.error && <p role="status">{saved}</p>}</>} />
  );
}

function PromotionDetail({ promotion }: { promotion: Promotion }) {
  const staff = useStaff();
  const codePages = usePages(promotion.id);
  const redemptionPages = usePages(promotion.id);
  const [round, setRound] = useState(0);
  const codes = useLoad(() => staff.promotions.listPromotionCodes({ promotionId: promotion.id, pageSize: 50, pageToken: codePages.token }), [promotion.id, codePages.token, round]);
  const redemptions = useLoad(() => staff.promotions.listPromotionRedemptions({ promotionId: promotion.id, pageSize: 25, pageToken: redemptionPages.token }), [promotion.id, redemptionPages.token]);
  const action = useAction();
  const [generated, setGenerated] = useState<string[]>([]);
  async function generate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    await action.run(async () => {
      const answer = await staff.promotions.generatePromotionCodes({ promotionId: promotion.id, prefix: String(form.get("prefix")).trim(), count: Number(form.get("count")) });
      setGenerated(answer.codes);
      setRound((r) => r + 1);
    });
  }
  // The export is a file made in the browser from the codes just generated (revoked when replaced).
  const csv = useMemo(() => (generated.length ? URL.createObjectURL(new Blob([`code\n${generated.join("\n")}\n`], { type: "text/csv" })) : undefined), [generated]);
  useEffect(() => () => { if (csv) URL.revokeObjectURL(csv); }, [csv]);
  return (
    <section aria-labelledby="codes-title">
      <h2 id="codes-title">Codes and redemptions</h2>
      <form onSubmit={generate} className="filters" aria-label="Generate codes">
        <FormRow id="codes-prefix" label="Prefix" name="prefix" />
        <FormRow id="codes-count" label="How many" name="count" type="number" min={1} max={10000} required />
        <button type="submit" disabled={action.busy}>Generate codes</button>
        {csv && <a className="button" href={csv} download={`${promotion.name}-codes.csv`}>Export {generated.length} codes (CSV)</a>}
      </form>
      <Refusal error={action.error ?? codes.error ?? redemptions.error} />
      <h3>Codes</h3>
      <table className="data">
        <thead><tr><th scope="col">Code</th><th scope="col">Used by order</th><th scope="col">Created</th></tr></thead>
        <tbody>{codes.data?.codes.map((c) => <tr key={c.code}><td>{c.code}</td><td>{c.orderId || "—"}</td><td>{formatTime(c.createTime)}</td></tr>)}</tbody>
      </table>
      <Pager pages={codePages} nextToken={codes.data?.nextPageToken} />
      <h3>Redemptions</h3>
      <table className="data">
        <thead><tr><th scope="col">Order</th><th scope="col">Code</th><th scope="col">Amount</th></tr></thead>
        <tbody>{redemptions.data?.redemptions.map((r) => <tr key={r.id}><td>{r.orderId}</td><td>{r.code || "—"}</td><td>{formatMoney(r.amount)}</td></tr>)}</tbody>
      </table>
      <Pager pages={redemptionPages} nextToken={redemptions.data?.nextPageToken} />
    </section>
  );
}
