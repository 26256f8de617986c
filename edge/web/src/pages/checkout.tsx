// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// Guest checkout: email and address, a shipping quote for the chosen method, the test gateway's card,
// then PlaceOrder with one idempotency key per checkout, so a double click or a retry is one order.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { api, forgetGuestCart } from "../api.ts";
import { useSession } from "../session.ts";
import { formatMoney, strings, type MoneyView } from "../strings.ts";
import { orders, orderView, type OrderView } from "../orders.ts";
import { cartView, moneyView } from "../views.ts";
import { Totals, useCart } from "./cart.tsx";
import { refusalMessage } from "./refusals.ts";

/** The test gateway's cards (documented in the README): the number picks its payment method. */
const testCards: Record<string, string> = {
  "4242424242424242": "pm_test_ok",
  "4000000000000002": "pm_test_declined",
  "4000000000009995": "pm_test_insufficient_funds",
};

interface SavedAddress {
  id: string;
  recipientName: string;
  line1: string;
  city: string;
  region: string;
  postalCode: string;
  countryCode: string;
}

interface Address {
  email: string;
  recipientName: string;
  line1: string;
  city: string;
  region: string;
  postalCode: string;
  countryCode: string;
}

const fields: { name: keyof Address; label: string; type?: string; autoComplete: string }[] = [
  { name: "email", label: strings.email, type: "email", autoComplete: "email" },
  { name: "recipientName", label: strings.recipientName, autoComplete: "name" },
  { name: "line1", label: strings.line1, autoComplete: "address-line1" },
  { name: "city", label: strings.city, autoComplete: "address-level2" },
  { name: "region", label: strings.region, autoComplete: "address-level1" },
  { name: "postalCode", label: strings.postalCode, autoComplete: "postal-code" },
];


export function CheckoutPage() {
  const [state, , setCart] = useCart();
  const navigate = useNavigate();
  const [address, setAddress] = useState<Address>({ email: "", recipientName: "", line1: "", city: "", region: "", postalCode: "", countryCode: "US" });
  const [options, setOptions] = useState<{ id: string; name: string; price: MoneyView | undefined }[]>([]);
  const [optionId, setOptionId] = useState("");
  const [card, setCard] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState("");
  const idempotencyKey = useRef<string | undefined>(undefined);
  const session = useSession();
  const signedIn = session.kind === "signed-in";
  const [saved, setSaved] = useState<SavedAddress[]>([]);
  const [saveAddress, setSaveAddress] = useState(false);
  // A signed-in shopper's saved addresses; their orders go to the account's email.
  useEffect(() => {
    if (session.kind !== "signed-in") return;
    api()
      .identity.listAddresses({ userId: session.userId })
      .then((r) => {
        setSaved(r.addresses.map((a) => ({ id: a.id, recipientName: a.recipientName, line1: a.line1, city: a.city, region: a.region, postalCode: a.postalCode, countryCode: a.countryCode })));
        const preferred = r.addresses.find((a) => a.defaultShipping) ?? r.addresses[0];
        if (preferred) setAddress((current) => ({ ...current, recipientName: preferred.recipientName, line1: preferred.line1, city: preferred.city, region: preferred.region, postalCode: preferred.postalCode, countryCode: preferred.countryCode }));
      })
      .catch((error: unknown) => setMessage(refusalMessage(error)));
  }, [session]);

  if (state.kind === "loading") return <p role="status">{strings.loadingCart}</p>;
  if (state.kind === "error") return <p className="error" role="alert">{state.message}</p>;
  if (state.kind === "empty") return <p>{strings.cartEmpty} <Link to="/">{strings.continueShopping}</Link></p>;
  const cart = state.cart;

  async function showOptions() {
    setMessage("");
    try {
      const r = await api().cart.listShippingOptions({ countryCode: address.countryCode, currencyCode: cart.currencyCode, region: address.region, postalCode: address.postalCode });
      setOptions(r.options.map((o) => ({ id: o.id, name: o.displayName, price: moneyView(o.price) })));
    } catch (error) {
      setMessage(refusalMessage(error));
    }
  }

  async function chooseOption(id: string) {
    setOptionId(id);
    setMessage("");
    try {
      const r = await api().cart.setCartShipping({ cartId: cart.id, shipping: { countryCode: address.countryCode, region: address.region, postalCode: address.postalCode, shippingOptionId: id } });
      if (r.cart) setCart(cartView(r.cart));
    } catch (error) {
      setMessage(refusalMessage(error));
    }
  }

  async function placeOrder(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const paymentMethod = testCards[card.replace(/\D/g, "")];
    if (!paymentMethod) {
      setMessage(strings.cardHint);
      return;
    }
    if (!optionId) {
      setMessage(strings.shippingMethod);
      return;
    }
    setBusy(true);
    setMessage("");
    if (signedIn && saveAddress && session.kind === "signed-in") {
      const { email: _email, ...postal } = address;
      await api().identity.createAddress({ userId: session.userId, address: postal }).catch(() => undefined);
      setSaveAddress(false);
    }
    // One key for this checkout: a retry after a network failure is the same order.
    idempotencyKey.current ??= crypto.randomUUID();
    try {
      const { email, ...postal } = address;
      const placed = await orders().placeOrder({
        cartId: cart.id,
        email,
        shippingAddress: postal,
        shippingOptionId: optionId,
        shippingQuoteId: cart.shippingQuoteId,
        paymentMethod,
        idempotencyKey: idempotencyKey.current,
      });
      if (!placed.order) throw new Error("PlaceOrder answered no order");
      forgetGuestCart();
      await navigate(`/order/${placed.order.id}`, { state: { order: orderView(placed.order) } });
    } catch (error) {
      setMessage(refusalMessage(error));
      // A refusal is final for this key: a new attempt (another card) is a new order request.
      idempotencyKey.current = undefined;
      setBusy(false);
    }
  }

  return (
    <section>
      <h1>{strings.checkoutTitle}</h1>
      <form onSubmit={(e) => void placeOrder(e)} className="checkout">
        <fieldset>
          <legend>{strings.shippingAddress}</legend>
          {saved.length > 0 && (
            <p>
              <label htmlFor="saved-address">{strings.savedAddress}</label>
              <select
                id="saved-address"
                defaultValue={saved[0]!.id}
                onChange={(e) => {
                  const chosen = saved.find((a) => a.id === e.target.value);
                  if (chosen) setAddress({ ...address, recipientName: chosen.recipientName, line1: chosen.line1, city: chosen.city, region: chosen.region, postalCode: chosen.postalCode, countryCode: chosen.countryCode });
                }}
              >
                {saved.map((a) => <option key={a.id} value={a.id}>{`${a.recipientName}, ${a.line1}, ${a.city}`}</option>)}
              </select>
            </p>
          )}
          {fields.filter((f) => !(signedIn && f.name === "email")).map((f) => (
            <p key={f.name}>
              <label htmlFor={f.name}>{f.label}</label>
              <input id={f.name} name={f.name} type={f.type ?? "text"} autoComplete={f.autoComplete} required value={address[f.name]} onChange={(e) => setAddress({ ...address, [f.name]: e.target.value })} />
            </p>
          ))}
          <p>
            <label htmlFor="countryCode">{strings.country}</label>
            <select id="countryCode" value={address.countryCode} onChange={(e) => setAddress({ ...address, countryCode: e.target.value })}>
              <option value="US">United States</option>
              <option value="CA">Canada</option>
              <option value="GB">United Kingdom</option>
              <option value="DE">Germany</option>
            </select>
          </p>
          {signedIn && (
            <p className="check">
              <input id="save-address" type="checkbox" checked={saveAddress} onChange={(e) => setSaveAddress(e.target.checked)} />
              <label htmlFor="save-address">{strings.saveAddress}</label>
            </p>
          )}
          <button type="button" onClick={() => void showOptions()}>{strings.getShippingOptions}</button>
        </fieldset>
        {options.length > 0 && (
          <fieldset>
            <legend>{strings.shippingMethod}</legend>
            {options.map((o) => (
              <label key={o.id} className="variant">
                <input type="radio" name="shippingOption" value={o.id} checked={o.id === optionId} onChange={() => void chooseOption(o.id)} />
                {o.name} — {formatMoney(o.price)}
              </label>
            ))}
          </fieldset>
        )}
        <fieldset>
          <legend>{strings.payment}</legend>
          <label htmlFor="card">{strings.cardNumber}</label>
          <input id="card" name="card" inputMode="numeric" autoComplete="cc-number" value={card} onChange={(e) => setCard(e.target.value)} aria-describedby="card-hint" />
          <p id="card-hint" className="hint">{strings.cardHint}</p>
        </fieldset>
        <Totals cart={cart} />
        <div role="alert">{message && <p className="error">{message}</p>}</div>
        <button type="submit" disabled={busy}>{busy ? strings.placing : strings.placeOrder}</button>
      </form>
    </section>
  );
}


export function ConfirmationPage() {
  const { orderId } = useParams();
  const order = (useLocation().state as { order?: OrderView } | null)?.order;
  return (
    <section>
      <h1>{strings.confirmationTitle}</h1>
      <p>{strings.orderNumber}: <strong data-testid="order-id">{orderId}</strong></p>
      {order && (
        <>
          <p>{strings.orderStatus}: {order.status}</p>
          <ul>{order.lines.map((l) => <li key={l.sku}>{l.quantity} × {l.name}</li>)}</ul>
          <p>{strings.total}: <strong>{formatMoney(order.total)}</strong></p>
        </>
      )}
      <p><Link to="/">{strings.continueShopping}</Link></p>
    </section>
  );
}
