// Orders: a filtered list (status, customer email / order id / SKU, creation dates) with keyset
// pages, and an order's detail — lines, totals, payment, status history, shipments — with the
// fulfilment steps (pack, buy label, ship), cancel and refund, each offered only when the order's
// and the shipment's state allow it, destructive ones confirmed.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { OrderPaymentStatus, OrderStatus, type Order } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { ShipmentStatus, type Shipment } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import { MoneySchema } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import { PaymentOperationKind, PaymentState } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { ReturnStatus } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { Code, ConnectError } from "@connectrpc/connect";
import { amountText, ConfirmButton, enumName, formatMoney, formatTime, Pager, parseAmount, Refusal, useAction, useLoad, usePages, useStaff } from "./ui.tsx";

const filterStatuses = [OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.FULFILLING, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.REFUNDED];

interface OrderFilter {
  status: OrderStatus | 0;
  query: string;
  from: string;
  to: string;
}

const dayStart = (day: string) => timestampFromDate(new Date(`${day}T00:00:00Z`));
const dayAfter = (day: string) => timestampFromDate(new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000));

export function OrdersPage() {
  const staff = useStaff();
  const [filter, setFilter] = useState<OrderFilter>({ status: 0, query: "", from: "", to: "" });
  const pages = usePages(JSON.stringify(filter));
  const orders = useLoad(
    () =>
      staff.orders.listOrders({
        pageSize: 25,
        pageToken: pages.token,
        statuses: filter.status ? [filter.status] : [],
        query: filter.query,
        createdAfter: filter.from ? dayStart(filter.from) : undefined,
        createdBefore: filter.to ? dayAfter(filter.to) : undefined,
      }),
    [filter, pages.token],
  );
  function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setFilter({ status: Number(form.get("status")) as OrderStatus, query: String(form.get("query")).trim(), from: String(form.get("from")), to: String(form.get("to")) });
  }
  return (
    <section>
      <h1>Orders</h1>
      <form className="filters" role="search" aria-label="Filter orders" onSubmit={apply}>
        <p className="field">
          <label htmlFor="order-status">Status</label>
          <select id="order-status" name="status" defaultValue={filter.status}>
            <option value={0}>Any</option>
            {filterStatuses.map((s) => <option key={s} value={s}>{enumName(OrderStatus, s)}</option>)}
          </select>
        </p>
        <p className="field"><label htmlFor="order-query">Email, order id or SKU</label><input id="order-query" name="query" type="search" defaultValue={filter.query} /></p>
        <p className="field"><label htmlFor="order-from">Placed from</label><input id="order-from" name="from" type="date" defaultValue={filter.from} /></p>
        <p className="field"><label htmlFor="order-to">Placed to</label><input id="order-to" name="to" type="date" defaultValue={filter.to} /></p>
        <button type="submit">Filter</button>
      </form>
      <Refusal error={orders.error} />
      <table className="data" aria-busy={orders.loading}>
        <caption className="visually-hidden">Orders, newest first</caption>
        <thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Customer</th><th scope="col">Status</th><th scope="col">Payment</th><th scope="col">Total</th></tr></thead>
        <tbody>
          {orders.data?.orders.map((order) => (
            <tr key={order.id}>
              <td><Link to={`/orders/${order.id}`}><span className="visually-hidden">Order {order.id}</span><span aria-hidden="true">…{order.id.slice(-8)}</span></Link></td>
              <td>{formatTime(order.createTime)}</td>
              <td>{order.email}{order.userId ? "" : " (guest)"}</td>
              <td><span className={`status status-${OrderStatus[order.status]?.toLowerCase()}`}>{enumName(OrderStatus, order.status)}</span></td>
              <td>{enumName(OrderPaymentStatus, order.paymentStatus)}</td>
              <td>{formatMoney(order.totals?.total)}</td>
            </tr>
          ))}
          {orders.data && orders.data.orders.length === 0 && <tr><td colSpan={6}>No orders match.</td></tr>}
        </tbody>
      </table>
      <Pager pages={pages} nextToken={orders.data?.nextPageToken} />
    </section>
  );
}

/** A NOT_FOUND answer means "none yet"; other errors stay errors. */
const orNone = <T,>(none: T) => (error: unknown): T => {
  if (error instanceof ConnectError && error.code === Code.NotFound) return none;
  throw error;
};

const cancellable = (order: Order) => order.status === OrderStatus.CONFIRMED || order.status === OrderStatus.FULFILLING;
const refundable = (order: Order) =>
  (order.paymentStatus === OrderPaymentStatus.PAID || order.paymentStatus === OrderPaymentStatus.PARTIALLY_REFUNDED) && (order.captured?.amountMinor ?? 0n) > (order.refunded?.amountMinor ?? 0n);

export function OrderPage() {
  const { orderId = "" } = useParams();
  const staff = useStaff();
  const loaded = useLoad(async () => {
    const [order, shipments, payment, returns] = await Promise.all([
      staff.orders.getOrder({ orderId }).then((r) => r.order!),
      // An order has no shipment until shipping follows its OrderPlaced (NOT_FOUND until then).
      staff.shipping.listOrderShipments({ orderId }).then((r) => r.shipments, orNone<Shipment[]>([])),
      // Nor a payment when its checkout failed before paying.
      staff.payments.getPayment({ orderId }).then((r) => r.payment, orNone(undefined)),
      staff.returns.listOrderReturns({ orderId }).then((r) => r.returns),
    ]);
    return { order, shipments, payment, returns };
  }, [orderId]);
  const action = useAction();
  if (loaded.error) return <Refusal error={loaded.error} />;
  if (!loaded.data) return <p aria-busy="true">Loading…</p>;
  const { order, shipments, payment, returns } = loaded.data;
  const run = (work: () => Promise<unknown>) => void action.run(work).then(loaded.reload);
  const currency = order.totals?.total?.currencyCode ?? "USD";
  const remaining = (order.captured?.amountMinor ?? 0n) - (order.refunded?.amountMinor ?? 0n);

  return (
    <section>
      <div className="title-row">
        <h1>Order {order.id.slice(-8)}</h1>
        <Link to="/orders">All orders</Link>
      </div>
      <p>
        <span className={`status status-${OrderStatus[order.status]?.toLowerCase()}`} data-testid="order-status">{enumName(OrderStatus, order.status)}</span>{" "}
        · payment {enumName(OrderPaymentStatus, order.paymentStatus)} · placed {formatTime(order.createTime)} · {order.email}{order.userId ? "" : " (guest)"}
      </p>
      <Refusal error={action.error} onReload={() => { action.clear(); loaded.reload(); }} />
      <div className="actions">
        <button type="button" className="secondary" onClick={loaded.reload} disabled={loaded.loading}>Refresh</button>
        {cancellable(order) && (
          <ConfirmButton label="Cancel order" question="Cancel this order? The payment is refunded in full, the stock restocked and the shipment cancelled." confirmLabel="Cancel the order" disabled={action.busy}
            onConfirm={() => run(() => staff.orders.cancelOrder({ orderId: order.id, reason: "cancelled by staff" }))} />
        )}
        {refundable(order) && <RefundButton order={order} currency={currency} remaining={remaining} run={run} busy={action.busy} />}
      </div>

      <div className="columns">
        <section aria-labelledby="lines-title">
          <h2 id="lines-title">Lines</h2>
          <table className="data">
            <thead><tr><th scope="col">Item</th><th scope="col">SKU</th><th scope="col">Qty</th><th scope="col">Unit</th><th scope="col">Total</th></tr></thead>
            <tbody>
              {order.lines.map((line) => (
                <tr key={line.sku}>
                  <td>{line.productName}{Object.keys(line.options).length > 0 && <span className="hint"> ({Object.entries(line.options).map(([k, v]) => `${k}: ${v}`).join(", ")})</span>}</td>
                  <td>{line.sku}</td>
                  <td>{line.quantity}</td>
                  <td>{formatMoney(line.unitPrice)}</td>
                  <td>{formatMoney(line.lineTotal)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <dl className="totals">
            <dt>Subtotal</dt><dd>{formatMoney(order.totals?.subtotal)}</dd>
            <dt>Discount</dt><dd>{formatMoney(order.totals?.discount)}</dd>
            <dt>Shipping</dt><dd>{formatMoney(order.totals?.shipping)}</dd>
            <dt>Tax</dt><dd>{formatMoney(order.totals?.tax)}</dd>
            <dt>Total</dt><dd>{formatMoney(order.totals?.total)}</dd>
            <dt>Captured</dt><dd>{formatMoney(order.captured)}</dd>
            <dt>Refunded</dt><dd>{formatMoney(order.refunded)}</dd>
          </dl>
        </section>
        <section aria-labelledby="ship-to-title">
          <h2 id="ship-to-title">Ship to</h2>
          <address>
            {[order.shippingAddress?.recipientName, order.shippingAddress?.line1, order.shippingAddress?.line2, `${order.shippingAddress?.postalCode ?? ""} ${order.shippingAddress?.city ?? ""} ${order.shippingAddress?.region ?? ""}`, order.shippingAddress?.countryCode].filter((l) => l && l.trim()).map((l) => <span key={l} className="line">{l}</span>)}
          </address>
          <p>Option: {order.shippingOptionId}</p>
          <h2>History</h2>
          <ol className="history">
            {order.history.map((change, i) => (
              <li key={i}>{enumName(OrderStatus, change.status)} — {formatTime(change.changeTime)} by {change.actor}{change.note ? `: ${change.note}` : ""}</li>
            ))}
          </ol>
        </section>
      </div>

      <section aria-labelledby="payment-title">
        <h2 id="payment-title">Payment</h2>
        {!payment && <p>No payment was made for this order.</p>}
        {payment && (
          <>
            <p>{enumName(PaymentState, payment.state)} · {payment.gateway} {payment.gatewayReference} · method {payment.paymentMethod}{payment.failureMessage ? ` · ${payment.failureMessage}` : ""}</p>
            <table className="data">
              <thead><tr><th scope="col">Operation</th><th scope="col">Amount</th><th scope="col">Outcome</th><th scope="col">When</th><th scope="col">Reference</th></tr></thead>
              <tbody>
                {payment.operations.map((op) => (
                  <tr key={op.id}><td>{enumName(PaymentOperationKind, op.kind)}</td><td>{formatMoney(op.amount)}</td><td>{op.succeeded ? "succeeded" : `failed ${op.failureCode}`}</td><td>{formatTime(op.createTime)}</td><td>{op.gatewayReference}</td></tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </section>

      <section aria-labelledby="returns-title">
        <h2 id="returns-title">Returns</h2>
        {returns.length === 0 ? <p>No returns.</p> : (
          <ul>
            {returns.map((r) => <li key={r.id}>Return {r.id.slice(-8)}: {enumName(ReturnStatus, r.status)}, {r.lines.map((l) => `${l.quantity} × ${l.sku}`).join(", ")} — <Link to="/returns">returns queue</Link></li>)}
          </ul>
        )}
      </section>

      <section aria-labelledby="shipments-title">
        <h2 id="shipments-title">Shipments</h2>
        {shipments.length === 0 && <p>No shipment yet: shipping makes one when the paid order reaches it. Refresh in a moment.</p>}
        {shipments.map((shipment, i) => (
          <article key={shipment.id} className="shipment" aria-label={`Shipment ${i + 1}`}>
            <p>
              <strong>Shipment {i + 1}</strong> · <span data-testid="shipment-status">{enumName(ShipmentStatus, shipment.status)}</span> · {shipment.carrier} {shipment.serviceLevel}
              {shipment.trackingNumber && <> · tracking <a href={shipment.trackingUrl}>{shipment.trackingNumber}</a></>}
              {shipment.labelUrl && <> · <a href={shipment.labelUrl}>label</a></>}
            </p>
            <p className="hint">{shipment.lines.map((l) => `${l.quantity} × ${l.sku}`).join(", ")}</p>
            <div className="actions">
              {shipment.status === ShipmentStatus.PENDING && <button type="button" disabled={action.busy} onClick={() => run(() => staff.shipping.packShipment({ id: shipment.id }))}>Pack</button>}
              {shipment.status === ShipmentStatus.PACKED && <button type="button" disabled={action.busy} onClick={() => run(() => staff.shipping.buyShipmentLabel({ id: shipment.id }))}>Buy label</button>}
              {shipment.status === ShipmentStatus.LABELLED && <button type="button" disabled={action.busy} onClick={() => run(() => staff.shipping.shipShipment({ id: shipment.id }))}>Ship</button>}
              {(shipment.status === ShipmentStatus.PENDING || shipment.status === ShipmentStatus.PACKED || shipment.status === ShipmentStatus.LABELLED) && (
                <ConfirmButton label="Cancel shipment" question="Cancel this shipment? Its label, if bought, is cancelled with the carrier." confirmLabel="Cancel the shipment" disabled={action.busy}
                  onConfirm={() => run(() => staff.shipping.cancelShipment({ id: shipment.id }))} />
              )}
            </div>
            {shipment.events.length > 0 && (
              <ol className="history">
                {shipment.events.map((e, j) => <li key={j}>{e.kind} — {formatTime(e.occurTime)}{e.description ? `: ${e.description}` : ""}</li>)}
              </ol>
            )}
          </article>
        ))}
      </section>
    </section>
  );
}

function RefundButton({ order, currency, remaining, run, busy }: { order: Order; currency: string; remaining: bigint; run: (work: () => Promise<unknown>) => void; busy: boolean }) {
  const staff = useStaff();
  const [amount, setAmount] = useState(amountText(remaining, currency));
  const [invalid, setInvalid] = useState<string>();
  return (
    <ConfirmButton label="Refund" question={`Refund up to ${formatMoney(create(MoneySchema, { currencyCode: currency, amountMinor: remaining }))} of this order?`} confirmLabel="Refund" disabled={busy}
      onConfirm={() => {
        const amountMinor = parseAmount(amount, currency);
        if (amountMinor === undefined || amountMinor <= 0n) return setInvalid(`"${amount}" is not an amount in ${currency}`);
        setInvalid(undefined);
        run(() => staff.orders.refundOrder({ orderId: order.id, refundId: crypto.randomUUID(), amount: { currencyCode: currency, amountMinor }, reason: "refunded by staff" }));
      }}>
      <p className="field">
        <label htmlFor="refund-amount">Amount ({currency})</label>
        <input id="refund-amount" value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" />
      </p>
      {invalid && <p role="alert" className="refusal">{invalid}</p>}
    </ConfirmButton>
  );
}
