// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// The account's settings (each its own page under /account): profile (display name), saved addresses
// (list, add, edit, delete), sessions and devices (revoke), change password, delete the account. Read in
// the browser through connect-query (Connect GET); writes are mutations that update or invalidate those
// reads. Refusals in words, the API's per-field violations on their fields. A chunk of its own.
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectQueryKey, useMutation, useQuery } from "@connectrpc/connect-query";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { DescMethodUnary } from "@bufbuild/protobuf";
import { useState, type FormEvent, type ReactNode } from "react";
import { useNavigate } from "react-router";
import { IdentityService, type Address } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { api } from "../api.ts";
import { queryClient } from "../query.tsx";
import { strings } from "../strings.ts";
import { Field } from "./field.tsx";
import { fieldErrors, formMessage, refusalMessage } from "./refusals.ts";
import { AccountNav, SignedIn, Status, useUserId } from "./signed-in.tsx";

const s = strings.settings;
const when = (time: Timestamp | undefined) => (time ? timestampDate(time).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" }) : "");
/** Reads the answers of `method` again (every input: this page's reads). */
const refetch = (method: DescMethodUnary) => queryClient.invalidateQueries({ queryKey: createConnectQueryKey({ schema: method, cardinality: "finite" }) });
const isWrongPassword = (error: unknown) => error instanceof ConnectError && error.code === Code.Unauthenticated;
const isStale = (error: unknown) => error instanceof ConnectError && error.code === Code.Aborted;

/** A settings page: signed in, the account's navigation, its title. */
function SettingsPage({ title, children }: { title: string; children: ReactNode }) {
  return (
    <SignedIn>
      <section>
        <h1>{title}</h1>
        <AccountNav />
        {children}
      </section>
    </SignedIn>
  );
}

/** A mutation's outcome under its form: the notice once done, else the refusal not shown on a field. */
function Outcome({ done, notice, message }: { done: boolean; notice: string; message: string }) {
  return (
    <>
      {done && !message && <p role="status" className="notice">{notice}</p>}
      <div role="alert">{message && <p className="error">{message}</p>}</div>
    </>
  );
}

// Profile ------------------------------------------------------------------------------------------

export function ProfilePage() {
  return (
    <SettingsPage title={s.profile}>
      <Profile />
    </SettingsPage>
  );
}

function Profile() {
  const userId = useUserId();
  const user = useQuery(IdentityService.method.getUser, { userId });
  const [name, setName] = useState<string | undefined>(undefined);
  const update = useMutation(IdentityService.method.updateUser, { onSuccess: () => refetch(IdentityService.method.getUser) });
  if (!user.data?.user) return <Status query={user} />;
  const current = user.data.user;
  const onFields = fieldErrors(update.error, ["display_name"]);

  function submit(event: FormEvent) {
    event.preventDefault();
    update.mutate({ user: { id: current.id, displayName: name ?? current.displayName, etag: current.etag }, updateMask: { paths: ["display_name"] } });
  }
  return (
    <form className="stacked" onSubmit={submit}>
      <p>{s.email}: <strong>{current.email}</strong></p>
      <Field id="display-name" label={s.displayName} autoComplete="name" value={name ?? current.displayName} onChange={(e) => setName(e.target.value)} error={onFields.display_name} />
      <Outcome done={update.isSuccess} notice={s.saved} message={isStale(update.error) ? s.changedElsewhere : formMessage(update.error, onFields)} />
      <button type="submit" disabled={update.isPending}>{update.isPending ? s.saving : s.save}</button>
    </form>
  );
}

// Addresses ----------------------------------------------------------------------------------------

export function AddressesPage() {
  return (
    <SettingsPage title={s.addressTitle}>
      <Addresses />
    </SettingsPage>
  );
}

const addressFields = ["recipient_name", "line1", "line2", "city", "region", "postal_code", "country_code", "phone"] as const;
type Postal = { recipientName: string; line1: string; line2: string; city: string; region: string; postalCode: string; countryCode: string; phone: string; defaultShipping: boolean };
const blank: Postal = { recipientName: "", line1: "", line2: "", city: "", region: "", postalCode: "", countryCode: "US", phone: "", defaultShipping: false };
const postalOf = (a: Address): Postal => ({ recipientName: a.recipientName, line1: a.line1, line2: a.line2, city: a.city, region: a.region, postalCode: a.postalCode, countryCode: a.countryCode, phone: a.phone, defaultShipping: a.defaultShipping });
const countries: [string, string][] = [["US", "United States"], ["CA", "Canada"], ["GB", "United Kingdom"], ["DE", "Germany"]];

function Addresses() {
  const userId = useUserId();
  const list = useQuery(IdentityService.method.listAddresses, { userId });
  // "new", an address id being edited, or nothing.
  const [editing, setEditing] = useState<string>("");
  const [notice, setNotice] = useState("");
  const remove = useMutation(IdentityService.method.deleteAddress, {
    onSuccess: async () => {
      setNotice(s.addressDeleted);
      await refetch(IdentityService.method.listAddresses);
    },
  });
  const addresses = list.data?.addresses ?? [];
  const done = (message: string) => {
    setEditing("");
    setNotice(message);
  };

  return (
    <>
      <Status query={list} />
      {list.data && addresses.length === 0 && <p>{s.noAddresses}</p>}
      <ul className="addresses">
        {addresses.map((a) => (
          <li key={a.id} data-testid="address">
            {editing === a.id ? (
              <AddressForm userId={userId} address={a} onDone={() => done(s.addressSaved)} onCancel={() => setEditing("")} />
            ) : (
              <>
                <address>
                  {a.recipientName}<br />{a.line1}{a.line2 && <>, {a.line2}</>}<br />{a.city}, {a.region} {a.postalCode}<br />{a.countryCode}{a.phone && <><br />{a.phone}</>}
                </address>
                {a.defaultShipping && <p><strong>{s.isDefault}</strong></p>}
                <p>
                  <button type="button" aria-label={s.editAddress(a.recipientName)} onClick={() => { setNotice(""); setEditing(a.id); }}>{s.edit}</button>{" "}
                  <button type="button" aria-label={s.deleteAddress(a.recipientName)} disabled={remove.isPending} onClick={() => { setNotice(""); remove.mutate({ userId, addressId: a.id }); }}>{s.delete}</button>
                </p>
              </>
            )}
          </li>
        ))}
      </ul>
      {notice && <p role="status" className="notice">{notice}</p>}
      <div role="alert">{remove.error && <p className="error">{refusalMessage(remove.error)}</p>}</div>
      {editing === "new" ? (
        <AddressForm userId={userId} onDone={() => done(s.addressSaved)} onCancel={() => setEditing("")} />
      ) : (
        list.data && <button type="button" onClick={() => { setNotice(""); setEditing("new"); }}>{s.addAddress}</button>
      )}
    </>
  );
}

function AddressForm({ userId, address, onDone, onCancel }: { userId: string; address?: Address; onDone: () => void; onCancel: () => void }) {
  const [value, setValue] = useState<Postal>(address ? postalOf(address) : blank);
  const after = { onSuccess: async () => { await refetch(IdentityService.method.listAddresses); onDone(); } };
  const create = useMutation(IdentityService.method.createAddress, after);
  const update = useMutation(IdentityService.method.updateAddress, after);
  const error = create.error ?? update.error;
  const onFields = fieldErrors(error, addressFields);
  const busy = create.isPending || update.isPending;
  const prefix = address ? `address-${address.id}` : "address-new";
  const input = (name: keyof Omit<Postal, "defaultShipping">, field: (typeof addressFields)[number], label: string, autoComplete: string, required = true) => (
    <Field id={`${prefix}-${field}`} label={label} autoComplete={autoComplete} required={required} value={value[name]} onChange={(e) => setValue({ ...value, [name]: e.target.value })} error={onFields[field]} />
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    if (address) update.mutate({ address: { ...value, id: address.id, userId, etag: address.etag }, updateMask: { paths: ["recipient_name", "line1", "line2", "city", "region", "postal_code", "country_code", "phone", "default_shipping"] } });
    else create.mutate({ userId, address: value });
  }
  return (
    <form className="stacked" onSubmit={submit}>
      <fieldset>
        <legend>{address ? s.editAddress(address.recipientName) : s.addAddress}</legend>
        {input("recipientName", "recipient_name", strings.recipientName, "name")}
        {input("line1", "line1", strings.line1, "address-line1")}
        {input("line2", "line2", s.line2, "address-line2", false)}
        {input("city", "city", strings.city, "address-level2")}
        {input("region", "region", strings.region, "address-level1")}
        {input("postalCode", "postal_code", strings.postalCode, "postal-code")}
        <p>
          <label htmlFor={`${prefix}-country_code`}>{strings.country}</label>
          <select id={`${prefix}-country_code`} value={value.countryCode} onChange={(e) => setValue({ ...value, countryCode: e.target.value })}>
            {countries.map(([code, name]) => <option key={code} value={code}>{name}</option>)}
          </select>
        </p>
        {input("phone", "phone", s.phone, "tel", false)}
        <p className="check">
          <input id={`${prefix}-default`} type="checkbox" checked={value.defaultShipping} onChange={(e) => setValue({ ...value, defaultShipping: e.target.checked })} />
          <label htmlFor={`${prefix}-default`}>{s.defaultShipping}</label>
        </p>
      </fieldset>
      <div role="alert">{error && <p className="error">{isStale(error) ? s.changedElsewhere : formMessage(error, onFields)}</p>}</div>
      <button type="submit" disabled={busy}>{busy ? s.saving : s.save}</button>{" "}
      <button type="button" onClick={onCancel}>{s.cancel}</button>
    </form>
  );
}

// Sessions and devices -----------------------------------------------------------------------------

export function SessionsPage() {
  return (
    <SettingsPage title={s.sessionsTitle}>
      <Sessions />
    </SettingsPage>
  );
}

/** A browser's name from its user agent, enough to recognise a device ("Chrome on Linux"). */
function deviceName(userAgent: string): string {
  if (!userAgent) return s.unknownDevice;
  const browser = /Edg\//.test(userAgent) ? "Edge" : /Chrom(e|ium)\//.test(userAgent) ? "Chrome" : /Firefox\//.test(userAgent) ? "Firefox" : /Safari\//.test(userAgent) ? "Safari" : "";
  const system = /Android/.test(userAgent) ? "Android" : /iPhone|iPad/.test(userAgent) ? "iOS" : /Windows/.test(userAgent) ? "Windows" : /Mac OS X/.test(userAgent) ? "macOS" : /Linux/.test(userAgent) ? "Linux" : "";
  return browser && system ? `${browser} on ${system}` : browser || system || userAgent.slice(0, 60);
}

function Sessions() {
  const userId = useUserId();
  const list = useQuery(IdentityService.method.listSessions, { userId });
  const revoke = useMutation(IdentityService.method.revokeSession, { onSuccess: () => refetch(IdentityService.method.listSessions) });
  return (
    <>
      <p>{s.sessionsHint}</p>
      <Status query={list} />
      {list.data && (
        <table className="lines sessions">
          <thead><tr><th scope="col">{s.device}</th><th scope="col">{s.ipAddress}</th><th scope="col">{s.signedIn}</th><th scope="col">{s.lastUsed}</th><th scope="col"><span className="visually-hidden">{s.revoke}</span></th></tr></thead>
          <tbody>
            {list.data.sessions.map((session) => {
              const device = deviceName(session.userAgent);
              return (
                <tr key={session.id} data-testid="session" data-current={session.current ? "true" : undefined}>
                  <td>{device}{session.current && <> — <strong>{s.thisDevice}</strong></>}</td>
                  <td>{session.ipAddress}</td>
                  <td>{when(session.createTime)}</td>
                  <td>{when(session.lastUsedTime)}</td>
                  <td>{!session.current && <button type="button" aria-label={s.revokeSession(`${device}, ${when(session.createTime)}`)} disabled={revoke.isPending} onClick={() => revoke.mutate({ userId, sessionId: session.id })}>{s.revoke}</button>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <Outcome done={revoke.isSuccess} notice={s.revoked} message={revoke.error ? refusalMessage(revoke.error) : ""} />
    </>
  );
}

// Change password ----------------------------------------------------------------------------------

export function PasswordPage() {
  return (
    <SettingsPage title={s.passwordTitle}>
      <ChangePassword />
    </SettingsPage>
  );
}

function ChangePassword() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const change = useMutation(IdentityService.method.changePassword, {
    onSuccess: async () => {
      setCurrent("");
      setNext("");
      await refetch(IdentityService.method.listSessions);
    },
  });
  const onFields = isWrongPassword(change.error) ? { current_password: s.wrongPassword } : fieldErrors(change.error, ["current_password", "new_password"]);
  return (
    <form className="stacked" onSubmit={(e) => { e.preventDefault(); change.mutate({ currentPassword: current, newPassword: next }); }}>
      <Field id="current-password" label={s.currentPassword} type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} error={onFields.current_password} />
      <Field id="new-password" label={s.newPassword} type="password" autoComplete="new-password" required minLength={10} hint={strings.account.passwordHint} value={next} onChange={(e) => setNext(e.target.value)} error={onFields.new_password} />
      <Outcome done={change.isSuccess} notice={s.passwordChanged} message={isWrongPassword(change.error) ? "" : formMessage(change.error, onFields)} />
      <button type="submit" disabled={change.isPending}>{change.isPending ? s.saving : s.changePassword}</button>
    </form>
  );
}

// Delete account -----------------------------------------------------------------------------------

export function DeleteAccountPage() {
  return (
    <SettingsPage title={s.deleteTitle}>
      <DeleteAccount />
    </SettingsPage>
  );
}

function DeleteAccount() {
  const userId = useUserId();
  const navigate = useNavigate();
  const [confirmed, setConfirmed] = useState(false);
  const [password, setPassword] = useState("");
  const remove = useMutation(IdentityService.method.deleteUser, {
    onSuccess: async () => {
      // Identity has ended every session; the page forgets its tokens and the edge its cookie.
      await api().signOut().catch(() => undefined);
      queryClient.clear();
      await navigate("/account/deleted", { replace: true });
    },
  });
  return (
    <form className="stacked" onSubmit={(e) => { e.preventDefault(); remove.mutate({ userId, password }); }}>
      <p>{s.deleteWarning}</p>
      <Field id="delete-password" label={strings.account.password} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} error={isWrongPassword(remove.error) ? s.wrongPassword : undefined} />
      <p className="check">
        <input id="delete-confirm" type="checkbox" required checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} />
        <label htmlFor="delete-confirm">{s.deleteConfirm}</label>
      </p>
      <div role="alert">{remove.error && !isWrongPassword(remove.error) && <p className="error">{refusalMessage(remove.error)}</p>}</div>
      <button type="submit" className="danger" disabled={!confirmed || remove.isPending}>{s.deleteFinal}</button>
    </form>
  );
}

/** Where a deleted account lands (signed out). */
export function AccountDeletedPage() {
  return (
    <section>
      <h1>{s.deleteTitle}</h1>
      <p role="status" className="notice">{s.deleted}</p>
    </section>
  );
}
