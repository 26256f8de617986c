// Stock: levels per SKU and location (keyset pages) with low stock highlighted against each SKU's
// threshold, receiving and adjusting with a reason, thresholds, and a SKU's movement history.
import { useState, type FormEvent } from "react";
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

function ReceiveForm({ onDone }: { onDone: () => void }) {
  const staff = useStaff();
  const action = useAction();
  const [done, setDone] = useState<string>();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const sku = String(form.get("sku")).trim();
    setDone(undefined);
    const ok = await action.run(async () => {
      const { level } = await staff.inventory.receiveStock({ sku, location: String(form.get("location")).trim(), quantity: BigInt(String(form.get("quantity"))), note: String(form.get("note")).trim() });
      setDone(`Received: ${sku} now has ${level?.onHand ?? 0n} on hand at ${level?.location ?? "default"}.`);
    });
    if (ok) {
      formElement.reset();
      onDone();
    }
  }
  return (
    <form onSubmit={submit} className="editor">
      <fieldset>
        <legend>Receive stock</legend>
        <FormRow id="receive-sku" label="SKU" name="sku" required />
        <FormRow id="receive-quantity" label="Quantity" name="quantity" type="number" min={1} required />
        <FormRow id="receive-location" label="Location" name="location" placeholder="default" />
        <FormRow id="receive-note" label="Note" name="note" placeholder="delivery note number" />
        <Refusal error={action.error} />
        {done && <p role="status">{done}</p>}
        <button type="submit" disabled={action.busy}>Receive</button>
      </fieldset>
    </form>
  );
}

function AdjustForm({ onDone }: { onDone: () => void }) {
  const staff = useStaff();
  const action = useAction();
  const [done, setDone] = useState<string>();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const sku = String(form.get("sku")).trim();
    setDone(undefined);
    const ok = await action.run(async () => {
      const { level } = await staff.inventory.adjustStock({ sku, location: String(form.get("location")).trim(), delta: BigInt(String(form.get("delta"))), reason: Number(form.get("reason")) as MovementReason, note: String(form.get("note")).trim() });
      setDone(`Adjusted: ${sku} now has ${level?.onHand ?? 0n} on hand.`);
    });
    if (ok) {
      formElement.reset();
      onDone();
    }
  }
  return (
    <form onSubmit={submit} className="editor">
      <fieldset>
        <legend>Adjust stock</legend>
        <FormRow id="adjust-sku" label="SKU" name="sku" required />
        <FormRow id="adjust-delta" label="Change (+/−)" name="delta" type="number" required />
        <FormRow id="adjust-reason" label="Reason">
          <select id="adjust-reason" name="reason">{adjustReasons.map((r) => <option key={r} value={r}>{enumName(MovementReason, r)}</option>)}</select>
        </FormRow>
        <FormRow id="adjust-location" label="Location" name="location" placeholder="default" />
        <FormRow id="adjust-note" label="Note" name="note" placeholder="required for OTHER" />
        <Refusal error={action.error} />
        {done && <p role="status">{done}</p>}
        <button type="submit" disabled={action.busy}>Adjust</button>
      </fieldset>
    </form>
  );
}

function ThresholdForm({ onDone }: { onDone: () => void }) {
  const staff = useStaff();
  const action = useAction();
  const [done, setDone] = useState<string>();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const sku = String(form.get("sku")).trim();
    setDone(undefined);
    const ok = await action.run(async () => {
      const { stock } = await staff.inventory.setLowStockThreshold({ sku, threshold: BigInt(String(form.get("threshold"))) });
      setDone(`${sku} is low at ${stock?.lowStockThreshold ?? 0n} available.`);
    });
    if (ok) onDone();
  }
  return (
    <form onSubmit={submit} className="editor">
      <fieldset>
        <legend>Low-stock threshold</legend>
        <FormRow id="threshold-sku" label="SKU" name="sku" required />
        <FormRow id="threshold-value" label="Low at (0 = off)" name="threshold" type="number" min={0} required />
        <Refusal error={action.error} />
        {done && <p role="status">{done}</p>}
        <button type="submit" disabled={action.busy}>Set threshold</button>
      </fieldset>
    </form>
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
