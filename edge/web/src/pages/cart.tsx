// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// The cart: a shopper's own data, so it is read in the browser (the server renders the loading state).
import { Fragment, useCallback, useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, resumeSession } from "../api.ts";
import { formatMoney, strings } from "../strings.ts";
import { cartView, shopCurrency, type CartView } from "../views.ts";
import { refusalMessage } from "./refusals.ts";

export type CartState = { kind: "loading" } | { kind: "empty" } | { kind: "ready"; cart: CartView } | { kind: "error"; message: string };

/** The held guest cart, read after hydration; `reload` after a change. */
export function useCart(): [CartState, () => void, (cart: CartView) => void] {
  const [state, setState] = useState<CartState>({ kind: "loading" });
  const reload = useCallback(() => {
    void (async () => {
      await resumeSession();
      const client = api();
      const held = client.guestCart();
      // A signed-in shopper's cart is their active one (CreateCart answers it); a guest's the one held.
      if (!held && !client.tokens()) return setState({ kind: "empty" });
      const read = held ? client.cart.getCart({ cartId: held.cartId }) : client.cart.createCart({ currencyCode: shopCurrency });
      const { cart } = await read;
      setState(cart && cart.lines.length > 0 ? { kind: "ready", cart: cartView(cart) } : { kind: "empty" });
    })().catch((error: unknown) => setState({ kind: "error", message: refusalMessage(error) }));
  }, []);
  useEffect(reload, [reload]);
  return [state, reload, (cart) => setState(cart.lines.length > 0 ? { kind: "ready", cart } : { kind: "empty" })];
}


export function Totals({ cart }: { cart: CartView }) {
  const t = cart.totals;
  return (
    <dl className="totals">
      <dt>{strings.subtotal}</dt><dd>{formatMoney(t.subtotal)}</dd>
      {cart.promotions.filter((p) => p.amount && p.amount.amountMinor !== "0").map((p) => (
        <Fragment key={p.id}><dt>{p.label || p.code}</dt><dd>−{formatMoney(p.amount)}</dd></Fragment>
      ))}
      {t.discount && t.discount.amountMinor !== "0" && <><dt>{strings.discount}</dt><dd data-testid="discount">−{formatMoney(t.discount)}</dd></>}
      <dt>{strings.shipping}</dt><dd>{t.shippingKnown ? formatMoney(t.shipping) : strings.shippingAtCheckout}</dd>
      {t.shippingDiscount && t.shippingDiscount.amountMinor !== "0" && <><dt>{strings.shippingDiscount}</dt><dd>−{formatMoney(t.shippingDiscount)} ({strings.discount.toLowerCase()})</dd></>}
      <dt>{strings.tax}</dt><dd>{formatMoney(t.tax)}</dd>
      <dt>{strings.total}</dt><dd data-testid="total">{formatMoney(t.total)}</dd>
    </dl>
  );
}

/** A line's quantity: changed with Update (or Enter); 0 removes the line. */
function QuantityForm({ line, onChange }: { line: CartView["lines"][number]; onChange: (sku: string, quantity: number) => Promise<void> }) {
  const [value, setValue] = useState(String(line.quantity));
  useEffect(() => setValue(String(line.quantity)), [line.quantity]);
  const id = `quantity-${line.sku}`;
  return (
    <form className="quantity" onSubmit={(e) => { e.preventDefault(); void onChange(line.sku, Math.max(0, Math.min(999, Math.floor(Number(value)) || 0))); }}>
      <label htmlFor={id} className="visually-hidden">{strings.quantityOf(line.productName)}</label>
      <input id={id} type="number" min={0} max={999} value={value} onChange={(e) => setValue(e.target.value)} />
      <button type="submit">{strings.update}</button>
    </form>
  );
}

function PromotionCodes({ cart, onCart }: { cart: CartView; onCart: (cart: CartView) => void }) {
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState("");
  const [notice, setNotice] = useState("");
  async function apply(event: FormEvent) {
    event.preventDefault();
    const entered = code.trim();
    if (!entered) return;
    setBusy(true);
    setMessage("");
    setNotice("");
    try {
      const r = await api().cart.applyPromotionCode({ cartId: cart.id, code: entered });
      if (r.cart) onCart(cartView(r.cart));
      setCode("");
      setNotice(strings.codeApplied(entered.toUpperCase()));
    } catch (error) {
      setMessage(refusalMessage(error));
    } finally {
      setBusy(false);
    }
  }
  async function remove(held: string) {
    setMessage("");
    setNotice("");
    try {
      const r = await api().cart.removePromotionCode({ cartId: cart.id, code: held });
      if (r.cart) onCart(cartView(r.cart));
    } catch (error) {
      setMessage(refusalMessage(error));
    }
  }
  return (
    <div className="promo">
      <form onSubmit={(e) => void apply(e)} className="inline">
        <label htmlFor="promo-code">{strings.promoCode}</label>
        <input id="promo-code" name="code" autoComplete="off" value={code} onChange={(e) => setCode(e.target.value)} />
        <button type="submit" disabled={busy}>{strings.applyCode}</button>
      </form>
      {cart.codes.length > 0 && (
        <ul className="codes">
          {cart.codes.map((c) => (
            <li key={c.code}>
              <strong>{c.code}</strong>{!c.applied && <span className="error"> {strings.codeNotApplied(c.code, c.message)}</span>}{" "}
              <button type="button" onClick={() => void remove(c.code)} aria-label={strings.removeCode(c.code)}>{strings.remove}</button>
            </li>
          ))}
        </ul>
      )}
      {notice && <p role="status" className="notice">{notice}</p>}
      <div role="alert">{message && <p className="error">{message}</p>}</div>
    </div>
  );
}

export function CartPage() {
  const [state, , setCart] = useCart();
  const [message, setMessage] = useState("");
  async function change(sku: string, quantity: number) {
    if (state.kind !== "ready") return;
    setMessage("");
    try {
      const r = quantity === 0 ? await api().cart.removeCartItem({ cartId: state.cart.id, sku }) : await api().cart.updateCartItem({ cartId: state.cart.id, sku, quantity });
      if (r.cart) setCart(cartView(r.cart));
    } catch (error) {
      setMessage(refusalMessage(error));
    }
  }
  return (
    <section>
      <h1>{strings.cartTitle}</h1>
      {state.kind === "loading" && <p role="status">{strings.loadingCart}</p>}
      {state.kind === "error" && <p className="error" role="alert">{state.message}</p>}
      {state.kind === "empty" && <p>{strings.cartEmpty} <Link to="/">{strings.continueShopping}</Link></p>}
      {state.kind === "ready" && (
        <>
          <table className="lines">
            <thead><tr><th scope="col">{strings.item}</th><th scope="col"><abbr title={strings.quantity}>{strings.quantityShort}</abbr></th><th scope="col">{strings.total}</th><th scope="col"><span className="visually-hidden">{strings.remove}</span></th></tr></thead>
            <tbody>
              {state.cart.lines.map((l) => (
                <tr key={l.sku}>
                  <td><Link to={`/p/${l.productSlug}`}>{l.productName}</Link>{l.label && <small> {l.label}</small>}</td>
                  <td><QuantityForm line={l} onChange={change} /></td>
                  <td data-testid={`line-total-${l.sku}`}>{formatMoney(l.lineTotal)}</td>
                  <td><button type="button" onClick={() => void change(l.sku, 0)} aria-label={`${strings.remove} ${l.productName}`}>{strings.remove}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          <div role="alert">{message && <p className="error">{message}</p>}</div>
          <PromotionCodes cart={state.cart} onCart={setCart} />
          <Totals cart={state.cart} />
          <p><Link className="button" to="/checkout">{strings.checkout}</Link></p>
        </>
      )}
    </section>
  );
}
