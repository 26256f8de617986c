// The console's frame: the sign-in gate (the client lives in this component's state, in memory
// only), then navigation and the page.
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { Link, NavLink, Outlet, useLocation, useMatches } from "react-router";
import { NotStaffError, signIn, type SignInStep, type StaffClient } from "./session.ts";
import type { ServiceName } from "./sections.ts";
import { describeRefusal, StaffContext, useStaff } from "./ui.tsx";

// Each section with the service it needs (none: identity's, always there); absent ones are not listed.
const sections: { to: string; label: string; end?: boolean; service?: ServiceName }[] = [
  { to: "/", label: "Dashboard", end: true },
  { to: "/orders", label: "Orders", service: "orders" },
  { to: "/products", label: "Products", service: "catalog" },
  { to: "/categories", label: "Categories", service: "catalog" },
  { to: "/stock", label: "Stock", service: "inventory" },
  { to: "/returns", label: "Returns", service: "returns" },
  { to: "/promotions", label: "Promotions", service: "promotions" },
  { to: "/customers", label: "Customers" },
  { to: "/notifications", label: "Notifications", service: "notifications" },
];

/** A section's page, or — when its service is absent from the mesh (an address typed by hand) — a notice. */
export function Requires({ service, children }: { service: ServiceName; children: ReactNode }) {
  const staff = useStaff();
  if (staff.services.has(service)) return children;
  return (
    <section>
      <h1>Not available</h1>
      <p>This shop runs no {service} service right now, so this section is hidden. Sign in again once it runs.</p>
      <p><Link to="/">Back to the dashboard</Link></p>
    </section>
  );
}

export function ConsoleLayout() {
  const [client, setClient] = useState<StaffClient>();
  const matches = useMatches();
  const location = useLocation();
  const main = useRef<HTMLElement>(null);
  const title = [...matches].reverse().map((m) => (m.handle as { title?: string } | undefined)?.title).find(Boolean) ?? "Console";
  useEffect(() => {
    document.title = client ? `${title} — Bazaar staff` : "Sign in — Bazaar staff";
  }, [title, client]);
  // After client-side navigation, focus goes to the page (keyboard and screen reader users start there).
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [location.pathname]);

  if (!client) return <SignIn onSignedIn={setClient} />;
  return (
    <StaffContext.Provider value={client}>
      <a className="skip" href="#main">Skip to content</a>
      <header className="console-top">
        <Link to="/" className="brand">Bazaar staff</Link>
        <nav aria-label="Sections">
          <ul>
            {sections.filter((s) => !s.service || client.services.has(s.service)).map((s) => (
              <li key={s.to}><NavLink to={s.to} end={s.end}>{s.label}</NavLink></li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>{client.user.displayName || client.user.email}</span>
          <button type="button" className="secondary" onClick={() => { void client.session.signOut().catch(() => undefined); setClient(undefined); }}>Sign out</button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Outlet />
      </main>
    </StaffContext.Provider>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (client: StaffClient) => void }) {
  const [mfa, setMfa] = useState<Extract<SignInStep, { kind: "mfa" }>>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      if (mfa) onSignedIn(await mfa.complete(String(form.get("code"))));
      else {
        const step = await signIn(String(form.get("email")), String(form.get("password")));
        if (step.kind === "signed-in") onSignedIn(step.client);
        else setMfa(step);
      }
    } catch (caught) {
      setError(caught instanceof NotStaffError ? `This account cannot open the staff console. The API refused: ${caught.refusal.rawMessage}` : describeRefusal(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="sign-in">
      <h1>Bazaar staff console</h1>
      <form onSubmit={submit} aria-describedby={error ? "sign-in-error" : undefined}>
        {mfa ? (
          <p className="field">
            <label htmlFor="code">Authentication code</label>
            <input id="code" name="code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" required autoFocus />
            <span className="hint">The 6-digit code from your authenticator app.</span>
          </p>
        ) : (
          <>
            <p className="field">
              <label htmlFor="email">Email</label>
              <input id="email" name="email" type="email" autoComplete="username" required autoFocus />
            </p>
            <p className="field">
              <label htmlFor="password">Password</label>
              <input id="password" name="password" type="password" autoComplete="current-password" required />
            </p>
          </>
        )}
        {error && <p id="sign-in-error" role="alert" className="refusal">{error}</p>}
        <button type="submit" disabled={busy}>{mfa ? "Verify" : "Sign in"}</button>
      </form>
      <p className="hint">Staff accounts only. Signing in again is needed after a reload: the session is kept in this page's memory.</p>
    </main>
  );
}

export function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p><Link to="/">Back to the dashboard</Link></p>
    </section>
  );
}
