// The returns queue: returns by status (requested first), newest first with keyset pages; approve,
// reject with a note, receive line by line with the units' condition, refund — each offered in the
// status that allows it, the irreversible ones confirmed.
import { useState } from "react";
import { Link } from "react-router";
import { ReturnReason, ReturnStatus, type Return } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { ConfirmButton, enumName, formatMoney, formatTime, Pager, Refusal, useAction, useLoad, usePages, useStaff } from "./ui.tsx";

const statuses = [ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.RECEIVED, ReturnStatus.REFUNDED, ReturnStatus.REJECTED, ReturnStatus.CANCELLED];

export function ReturnsPage() {
  const staff = useStaff();
  const [status, setStatus] = useState<ReturnStatus | 0>(ReturnStatus.REQUESTED);
  const pages = usePages(String(status));
  const returns = useLoad(() => staff.returns.listReturns({ status, pageSize: 25, pageToken: pages.token }), [status, pages.token]);
  const action = useAction();
  const run = (work: () => Promise<unknown>) => void action.run(work).then(returns.reload);
  return (
    <section>
      <h1>Returns</h1>
      <p className="field filters">
        <label htmlFor="return-status">Status</label>
        <select id="return-status" value={status} onChange={(e) => setStatus(Number(e.target.value) as ReturnStatus)}>
          <option value={0}>Any</option>
          {statuses.map((s) => <option key={s} value={s}>{enumName(ReturnStatus, s)}</option>)}
        </select>
      </p>
      <Refusal error={returns.error ?? action.error} />
      {returns.data?.returns.map((item) => <ReturnCard key={item.id} item={item} busy={action.busy} run={run} />)}
      {returns.data && returns.data.returns.length === 0 && <p>No returns in this state.</p>}
      <Pager pages={pages} nextToken={returns.data?.nextPageToken} />
    </section>
  );
}

function ReturnCard({ item, busy, run }: { item: Return; busy: boolean; run: (work: () => Promise<unknown>) => void }) {
  const staff = useStaff();
  const [note, setNote] = useState("");
  const [received, setReceived] = useState(() => Object.fromEntries(item.lines.map((l) => [l.sku, { resellable: l.quantity, damaged: 0 }])));
  const [shipping, setShipping] = useState(false);
  return (
    <article className="shipment" aria-label={`Return ${item.id.slice(-8)}`}>
      <p>
        <strong>Return {item.id.slice(-8)}</strong> · {enumName(ReturnStatus, item.status)} · order <Link to={`/orders/${item.orderId}`}>{item.orderId.slice(-8)}</Link> · {enumName(ReturnReason, item.reason)} · {formatTime(item.createTime)}
      </p>
      {item.comment && <p className="hint">“{item.comment}”</p>}
      <table className="data">
        <thead><tr><th scope="col">SKU</th><th scope="col">Units</th><th scope="col">Refund</th>{item.status === ReturnStatus.APPROVED && <><th scope="col">Resellable</th><th scope="col">Damaged</th></>}</tr></thead>
        <tbody>
          {item.lines.map((line) => (
            <tr key={line.sku}>
              <td>{line.sku}</td>
              <td>{line.quantity}</td>
              <td>{formatMoney(line.refundAmount)}</td>
              {item.status === ReturnStatus.APPROVED && (
                <>
                  <td><input type="number" min={0} max={line.quantity} aria-label={`${line.sku} resellable units`} value={received[line.sku]?.resellable ?? 0} onChange={(e) => setReceived((r) => ({ ...r, [line.sku]: { ...r[line.sku]!, resellable: Number(e.target.value) } }))} /></td>
                  <td><input type="number" min={0} max={line.quantity} aria-label={`${line.sku} damaged units`} value={received[line.sku]?.damaged ?? 0} onChange={(e) => setReceived((r) => ({ ...r, [line.sku]: { ...r[line.sku]!, damaged: Number(e.target.value) } }))} /></td>
                </>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="actions">
        {item.status === ReturnStatus.REQUESTED && (
          <>
            <button type="button" disabled={busy} onClick={() => run(() => staff.returns.approveReturn({ returnId: item.id }))}>Approve</button>
            <ConfirmButton label="Reject" question="Reject this return? The shopper is told, with your note." confirmLabel="Reject return" disabled={busy} onConfirm={() => run(() => staff.returns.rejectReturn({ returnId: item.id, note }))}>
              <p className="field"><label htmlFor={`reject-${item.id}`}>Note to the shopper</label><input id={`reject-${item.id}`} value={note} onChange={(e) => setNote(e.target.value)} required /></p>
            </ConfirmButton>
          </>
        )}
        {item.status === ReturnStatus.APPROVED && (
          <button type="button" disabled={busy} onClick={() => run(() => staff.returns.receiveReturn({ returnId: item.id, lines: Object.entries(received).map(([sku, r]) => ({ sku, ...r })) }))}>Receive</button>
        )}
        {item.status === ReturnStatus.RECEIVED && (
          <ConfirmButton label="Refund" question="Refund this return to the shopper's payment?" confirmLabel="Refund return" disabled={busy} onConfirm={() => run(() => staff.returns.refundReturn({ returnId: item.id, includeShipping: shipping }))}>
            <p><label><input type="checkbox" checked={shipping} onChange={(e) => setShipping(e.target.checked)} /> Include the order's shipping</label></p>
          </ConfirmButton>
        )}
        {item.refunded && item.refunded.amountMinor > 0n && <span>Refunded {formatMoney(item.refunded)}</span>}
      </div>
    </article>
  );
}
