// Stock: levels per SKU and location (keyset pages) with low stock highlighted against each SKU's
// threshold, receiving and adjusting with a reason, thresholds, and a SKU's movement history.
import { useState, type FormEvent, type ReactNode } from "react";
import { MovementReason } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { enumName, FormRow, formatTime, Pager, Refusal, useAction, useLoad, usePages, useStaff } from "./ui.tsx";

const adjustReasons = [MovementReason.COUNT_CORRECTION, MovementReason.DAMAGED, MovementReason.LOST, MovementReason.RETURNED, MovementReason.OTHER];

export function StockPage() {
  const staff = useStaff();
  const pages = usePages("");
  const [round, setRound] = useState(0);
  const [sku, setSku] = useState("");
  const levels = useLoad(async () => {
    const page = await staff.inventory.listStockLevels({ pageSize: 50, pageToken: pages.token });
    const skus = [...new Set(page.levels.map((l) => l.sku))];
    const totals = skus.length ? (await staff.inventory.batchGetStockLevels({ skus })).stocks : [];
    return { ...page, totals: new Map(totals.map((t) => [t.sku, t])) };
  }, [pages.token, round]);
  const changed = () => setRound((r) => r + 1);

  return (
    <section>
      <h1>Stock</h1>
      <div className="panels">
        <ReceiveForm onDone={changed} />
        <AdjustForm onDone={changed} />
        <ThresholdForm onDone={changed} />
      </div>
      <h2>Levels</h2>
      <Refusal error={levels.error} />
      <table className="data" aria-busy={levels.loading}>
        <caption className="visually-hidden">Stock levels by SKU and location</caption>
        <thead><tr><th scope="col">SKU</th><th scope="col">Location</th><th scope="col">On hand</th><th scope="col">Reserved</th><th scope="col">Available</th><th scope="col">Low at</th><th scope="col">Updated</th></tr></thead>
        <tbody>
          {levels.data?.levels.map((level) => {
            const total = levels.data!.totals.get(level.sku);
            const low = total !== undefined && total.lowStockThreshold > 0n && total.available <= total.lowStockThreshold;
            return (
              <tr key={`${level.sku}@${level.location}`} className={low ? "low" : undefined}>
                <td><button type="button" className="link" onClick={() => setSku(level.sku)}>{level.sku}</button>{low && <strong className="badge">Low stock</strong>}</td>
                <td>{level.location}</td>
                <td>{level.onHand.toString()}</td>
                <td>{level.reserved.toString()}</td>
                <td>{level.available.toString()}</td>
                <td>{total && total.lowStockThreshold > 0n ? total.lowStockThreshold.toString() : "—"}</td>
                <td>{formatTime(level.updateTime)}</td>
              </tr>
            );
          })}
          {levels.data && levels.data.levels.length === 0 && <tr><td colSpan={7}>No stock recorded yet.</td></tr>}
        </tbody>
      </table>
      <Pager pages={pages} nextToken={levels.data?.nextPageToken} />
      {sku && <Movements sku={sku} round={round} />}
    </section>
  );
}

/**
 * One stock action as a form: its fields, a call that returns what to say when it worked, the refusal
 * shown beside the fields when it did not; `reset` empties the fields after a success.
 */
function StockForm(props: { legend: string; submit: string; reset?: boolean; onDone: () => void; act: (form: FormData) => Promise<string>; children: ReactNode }) {
  const action = useAction();
  const [done, setDone] = useState<string>();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setDone(undefined);
    const ok = await action.run(async () => setDone(await props.act(form)));
    if (ok) {
      if (props.reset) formElement.reset();
      props.onDone();
    }
  }
  return (
    <form onSubmit={submit} className="editor">
      <fieldset>
        <legend>{props.legend}</legend>
        {props.children}
        <Refusal error={action.error} />
        {done && <p role="status">{done}</p>}
        <button type="submit" disabled={action.busy}>{props.submit}</button>
      </fieldset>
    </form>
  );
}

const text = (form: FormData, name: string) => String(form.get(name)).trim();

function ReceiveForm({ onDone }: { onDone: () => void }) {
  const staff = useStaff();
  const act = async (form: FormData) => {
    const sku = text(form, "sku");
    const { level } = await staff.inventory.receiveStock({ sku, location: text(form, "location"), quantity: BigInt(text(form, "quantity")), note: text(form, "note") });
    return `Received: ${sku} now has ${level?.onHand ?? 0n} on hand at ${level?.location ?? "default"}.`;
  };
  return (
    <StockForm legend="Receive stock" submit="Receive" reset onDone={onDone} act={act}>
      <FormRow id="receive-sku" label="SKU" name="sku" required />
      <FormRow id="receive-quantity" label="Quantity" name="quantity" type="number" min={1} required />
      <FormRow id="receive-location" label="Location" name="location" placeholder="default" />
      <FormRow id="receive-note" label="Note" name="note" placeholder="delivery note number" />
    </StockForm>
  );
}

function AdjustForm({ onDone }: { onDone: () => void }) {
  const staff = useStaff();
  const act = async (form: FormData) => {
    const sku = text(form, "sku");
    const { level } = await staff.inventory.adjustStock({ sku, location: text(form, "location"), delta: BigInt(text(form, "delta")), reason: Number(form.get("reason")) as MovementReason, note: text(form, "note") });
    return `Adjusted: ${sku} now has ${level?.onHand ?? 0n} on hand.`;
  };
  return (
    <StockForm legend="Adjust stock" submit="Adjust" reset onDone={onDone} act={act}>
      <FormRow id="adjust-sku" label="SKU" name="sku" required />
      <FormRow id="adjust-delta" label="Change (+/−)" name="delta" type="number" required />
      <FormRow id="adjust-reason" label="Reason">
        <select id="adjust-reason" name="reason">{adjustReasons.map((r) => <option key={r} value={r}>{enumName(MovementReason, r)}</option>)}</select>
      </FormRow>
      <FormRow id="adjust-location" label="Location" name="location" placeholder="default" />
      <FormRow id="adjust-note" label="Note" name="note" placeholder="required for OTHER" />
    </StockForm>
  );
}

function ThresholdForm({ onDone }: { onDone: () => void }) {
  const staff = useStaff();
  const act = async (form: FormData) => {
    const sku = text(form, "sku");
    const { stock } = await staff.inventory.setLowStockThreshold({ sku, threshold: BigInt(text(form, "threshold")) });
    return `${sku} is low at ${stock?.lowStockThreshold ?? 0n} available.`;
  };
  return (
    <StockForm legend="Low-stock threshold" submit="Set threshold" onDone={onDone} act={act}>
      <FormRow id="threshold-sku" label="SKU" name="sku" required />
      <FormRow id="threshold-value" label="Low at (0 = off)" name="threshold" type="number" min={0} required />
    </StockForm>
  );
}

function Movements({ sku, round }: { sku: string; round: number }) {
  const staff = useStaff();
  const pages = usePages(sku);
  const movements = useLoad(() => staff.inventory.listStockMovements({ sku, pageSize: 20, pageToken: pages.token }), [sku, pages.token, round]);
  return (
    <section aria-labelledby="movements-title">
      <h2 id="movements-title">Movements of {sku}</h2>
      <Refusal error={movements.error} />
      <table className="data">
        <thead><tr><th scope="col">When</th><th scope="col">Location</th><th scope="col">Change</th><th scope="col">Reason</th><th scope="col">On hand after</th><th scope="col">Note</th><th scope="col">By</th></tr></thead>
        <tbody>
          {movements.data?.movements.map((m) => (
            <tr key={m.id}>
              <td>{formatTime(m.createTime)}</td>
              <td>{m.location}</td>
              <td>{m.delta > 0n ? `+${m.delta}` : m.delta.toString()}</td>
              <td>{enumName(MovementReason, m.reason)}</td>
              <td>{m.onHandAfter.toString()}</td>
              <td>{m.note}</td>
              <td>{m.actor}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pages={pages} nextToken={movements.data?.nextPageToken} />
    </section>
  );
}
