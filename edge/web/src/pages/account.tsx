// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// The account area: the signed-in shopper's orders (newest first, keyset paging by `?page=<token>`),
// and an order's page (/orders/:orderId, where the order emails link): status history, shipments
// with tracking, cancelling while allowed, and a return request once delivered. Read in the browser
// (the server renders the loading state: pages carry no one's data) through connect-query and TanStack
// Query (Connect GET: the edge's ETags). A chunk of its own.
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectQueryKey, useMutation, useQuery } from "@connectrpc/connect-query";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { OrderService, OrderStatus, type Order } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { ShippingService, ShipmentStatus } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import { ReturnReason, ReturnStatus, ReturnsService } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { api } from "../api.ts";
import { queryClient } from "../query.tsx";
import { useSession } from "../session.ts";
import { formatMoney, strings } from "../strings.ts";
import { moneyView } from "../views.ts";
import { refusalMessage } from "./refusals.ts";
import { AccountNav, SignedIn, Status } from "./signed-in.tsx";

const t = strings.account;
const ordersPageSize = 10;
/** How an order is named to people: the end of its id (UUIDv7s share their time-ordered start). */
const shortId = (id: string) => id.slice(-8);

/** An enum value's name for people: ORDER_STATUS_IN_TRANSIT → "in transit". */
const enumLabel = (names: Record<number, string>, value: number) => (names[value] ?? "").toLowerCase().replace(/_/g, " ");
const when = (time: Timestamp | undefined) => (time ? timestampDate(time).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" }) : "");

export function AccountPage() {
  return (
    <SignedIn>
      <Account />
    </SignedIn>
  );
}

function Account() {
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const pageToken = params.get("page") ?? "";
  const userId = session.kind === "signed-in" ? session.userId : "";
  const user = useQuery(IdentityService.method.getUser, { userId });
  const orders = useQuery(OrderService.method.listMyOrders, { pageSize: ordersPageSize, pageToken });
  const [signingOut, setSigningOut] = useState(false);

  async function signOut() {
    setSigningOut(true);
    await api().signOut().catch(() => undefined);
    queryClient.clear();
    await navigate("/");
  }

  return (
    <section>
      <h1>{t.title}</h1>
      <AccountNav />
      {user.data?.user && <p>{t.signedInAs(user.data.user.email)}</p>}
      <button type="button" onClick={() => void signOut()} disabled={signingOut}>{t.signOut}</button>
      <h2>{t.orders}</h2>
      <Status query={orders} />
      {orders.data && (
        <>
          {orders.data.orders.length === 0 ? (
            <p>{t.noOrders}</p>
          ) : (
            <table className="lines orders">
              <thead><tr><th scope="col">{t.order}</th><th scope="col">{t.placed}</th><th scope="col">{strings.orderStatus}</th><th scope="col">{strings.total}</th></tr></thead>
              <tbody>
                {orders.data.orders.map((o) => (
                  <tr key={o.id}>
                    <td><Link to={`/orders/${o.id}`}>{t.orderTitle(shortId(o.id))}</Link></td>
                    <td>{when(o.createTime)}</td>
                    <td>{enumLabel(OrderStatus, o.status)}</td>
                    <td>{formatMoney(moneyView(o.totals?.total))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <nav aria-label="Order pages" className="pager">
            {pageToken && <Link to="/account">{t.newestOrders}</Link>}
            {orders.data.nextPageToken && <Link to={`/account?page=${encodeURIComponent(orders.data.nextPageToken)}`}>{t.olderOrders}</Link>}
          </nav>
        </>
      )}
    </section>
  );
}

export function OrderPage() {
  return (
    <SignedIn>
      <OrderDetails />
    </SignedIn>
  );
}

/** NOT_FOUND from a list of an order's shipments means it has none yet. */
const noneYet = (error: unknown) => error instanceof ConnectError && error.code === Code.NotFound;

function OrderDetails() {
  const { orderId = "" } = useParams();
  const order = useQuery(OrderService.method.getOrder, { orderId });
  const shipments = useQuery(ShippingService.method.listOrderShipments, { orderId });
  const returns = useQuery(ReturnsService.method.listOrderReturns, { orderId });
  const cancel = useMutation(OrderService.method.cancelOrder, {
    onSuccess: (answer) => queryClient.setQueryData(createConnectQueryKey({ schema: OrderService.method.getOrder, input: { orderId }, cardinality: "finite", transport: api().transport }), { $typeName: "bazaar.order.v1.GetOrderResponse", order: answer.order }),
  });
  if (!order.data?.order) return <Status query={order} />;
  const o = order.data.order;
  const cancellable = o.status === OrderStatus.CONFIRMED || o.status === OrderStatus.FULFILLING;

  return (
    <article>
      <h1>{t.orderTitle(shortId(o.id))}</h1>
      <p>{strings.orderStatus}: <strong data-testid="order-status">{enumLabel(OrderStatus, o.status)}</strong> · {t.placed} {when(o.createTime)}</p>
      <table className="lines">
        <thead><tr><th scope="col">{strings.item}</th><th scope="col"><abbr title={strings.quantity}>{strings.quantityShort}</abbr></th><th scope="col">{strings.total}</th></tr></thead>
        <tbody>
          {o.lines.map((l) => (
            <tr key={l.sku}><td>{l.productName}</td><td>{l.quantity}</td><td>{formatMoney(moneyView(l.lineTotal))}</td></tr>
          ))}
        </tbody>
      </table>
      <dl className="totals">
        <dt>{strings.subtotal}</dt><dd>{formatMoney(moneyView(o.totals?.subtotal))}</dd>
        {o.totals?.discount && o.totals.discount.amountMinor !== 0n && <><dt>{strings.discount}</dt><dd>−{formatMoney(moneyView(o.totals.discount))}</dd></>}
        <dt>{strings.shipping}</dt><dd>{formatMoney(moneyView(o.totals?.shipping))}</dd>
        <dt>{strings.tax}</dt><dd>{formatMoney(moneyView(o.totals?.tax))}</dd>
        <dt>{strings.total}</dt><dd>{formatMoney(moneyView(o.totals?.total))}</dd>
      </dl>
      {cancel.isSuccess && <p role="status" className="notice">{t.cancelled}</p>}
      <div role="alert">{cancel.error && <p className="error">{refusalMessage(cancel.error)}</p>}</div>
      {cancellable && <p><button type="button" onClick={() => cancel.mutate({ orderId })} disabled={cancel.isPending}>{t.cancelOrder}</button></p>}

      <h2>{t.history}</h2>
      <ol className="history">
        {o.history.map((h, i) => (
          <li key={i}>{enumLabel(OrderStatus, h.status)} — {when(h.changeTime)}{h.note && `: ${h.note}`}</li>
        ))}
      </ol>

      <h2>{t.shipments}</h2>
      {shipments.error && !noneYet(shipments.error) && <Status query={shipments} />}
      {shipments.isPending && <Status query={shipments} />}
      {(noneYet(shipments.error) || shipments.data?.shipments.length === 0) && <p>{t.noShipments}</p>}
      {shipments.data?.shipments.map((s) => (
        <section key={s.id} className="shipment" aria-label={`${t.shipments}: ${s.carrier}`}>
          <p>{s.carrier} {s.serviceLevel} — <strong>{enumLabel(ShipmentStatus, s.status)}</strong></p>
          {s.trackingNumber && <p>{t.trackingNumber}: {s.trackingUrl ? <a href={s.trackingUrl} rel="noreferrer">{s.trackingNumber}</a> : s.trackingNumber}</p>}
          <ol className="history">
            {s.events.map((e, i) => <li key={i}>{e.description || e.kind}{e.location && `, ${e.location}`} — {when(e.occurTime)}</li>)}
          </ol>
        </section>
      ))}

      {((returns.data?.returns.length ?? 0) > 0 || o.status === OrderStatus.DELIVERED) && <h2>{t.returns}</h2>}
      {returns.error && <Status query={returns} />}
      {returns.data && returns.data.returns.length > 0 && (
        <ul>
          {returns.data.returns.map((r) => (
            <li key={r.id} data-testid="return">{r.lines.map((l) => `${l.quantity} × ${l.sku}`).join(", ")} — {enumLabel(ReturnStatus, r.status)}</li>
          ))}
        </ul>
      )}
      {o.status === OrderStatus.DELIVERED && <ReturnForm order={o} />}
      <p><Link to="/account">{t.orders}</Link></p>
    </article>
  );
}

const reasons = [ReturnReason.DAMAGED, ReturnReason.WRONG_ITEM, ReturnReason.NOT_AS_DESCRIBED, ReturnReason.CHANGED_MIND, ReturnReason.OTHER];

function ReturnForm({ order }: { order: Order }) {
  const [quantities, setQuantities] = useState<Record<string, number>>({});
  const [reason, setReason] = useState(ReturnReason.CHANGED_MIND);
  const [comment, setComment] = useState("");
  const [message, setMessage] = useState("");
  const request = useMutation(ReturnsService.method.requestReturn, {
    onSuccess: async () => {
      setQuantities({});
      await queryClient.invalidateQueries({ queryKey: createConnectQueryKey({ schema: ReturnsService.method.listOrderReturns, input: { orderId: order.id }, cardinality: "finite", transport: api().transport }) });
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    const lines = Object.entries(quantities).filter(([, quantity]) => quantity > 0).map(([sku, quantity]) => ({ sku, quantity }));
    if (lines.length === 0) return setMessage(t.returnQuantity("an item"));
    setMessage("");
    request.mutate({ orderId: order.id, lines, reason, comment });
  }
  const busy = request.isPending;
  const notice = request.isSuccess ? t.returnRequested : "";
  const shown = message || (request.error ? refusalMessage(request.error) : "");

  return (
    <form onSubmit={submit} className="stacked">
      <fieldset>
        <legend>{t.requestReturn}</legend>
        {order.lines.map((l) => (
          <p key={l.sku}>
            <label htmlFor={`return-${l.sku}`}>{t.returnQuantity(l.productName)}</label>
            <input id={`return-${l.sku}`} type="number" min={0} max={l.quantity} value={quantities[l.sku] ?? 0} onChange={(e) => setQuantities({ ...quantities, [l.sku]: Math.min(l.quantity, Math.max(0, Number(e.target.value) || 0)) })} />
          </p>
        ))}
        <p>
          <label htmlFor="return-reason">{t.returnReason}</label>
          <select id="return-reason" value={reason} onChange={(e) => setReason(Number(e.target.value) as ReturnReason)}>
            {reasons.map((r) => <option key={r} value={r}>{enumLabel(ReturnReason, r)}</option>)}
          </select>
        </p>
        <p>
          <label htmlFor="return-comment">{t.returnComment}</label>
          <textarea id="return-comment" maxLength={1000} value={comment} onChange={(e) => setComment(e.target.value)} />
        </p>
      </fieldset>
      {notice && <p role="status" className="notice">{notice}</p>}
      <div role="alert">{shown && <p className="error">{shown}</p>}</div>
      <button type="submit" disabled={busy}>{t.sendReturn}</button>
    </form>
  );
}
