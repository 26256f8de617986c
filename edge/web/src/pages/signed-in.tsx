// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// What the account pages share: the gate that sends a signed-out visitor to sign in (and back), a
// read's loading and error state, and the account area's navigation.
import { useEffect, type ReactNode } from "react";
import { NavLink, useNavigate } from "react-router";
import { resumeSession } from "../api.ts";
import { WithQueries } from "../query.tsx";
import { useSession } from "../session.ts";
import { strings } from "../strings.ts";
import { refusalMessage } from "./refusals.ts";

/** Renders `children` for a signed-in shopper; sends anyone else to sign in (and back). */
export function SignedIn({ children }: { children: ReactNode }) {
  const session = useSession();
  const navigate = useNavigate();
  useEffect(() => {
    void resumeSession();
  }, []);
  useEffect(() => {
    if (session.kind === "signed-out") void navigate(`/sign-in?next=${encodeURIComponent(window.location.pathname + window.location.search)}`, { replace: true });
  }, [session.kind, navigate]);
  if (session.kind !== "signed-in") return <p role="status">{session.kind === "unknown" ? strings.loading : strings.account.signInFirst}</p>;
  return <WithQueries>{children}</WithQueries>;
}

/** The signed-in shopper's id (inside SignedIn). */
export function useUserId(): string {
  const session = useSession();
  return session.kind === "signed-in" ? session.userId : "";
}

/** A read's state as the pages show it: loading, a refusal in words, or nothing once answered. */
export function Status({ query }: { query: { isPending: boolean; error: unknown } }) {
  if (query.isPending) return <p role="status">{strings.loading}</p>;
  if (query.error) return <p className="error" role="alert">{refusalMessage(query.error)}</p>;
  return null;
}

const s = strings.settings;
const sections: [string, string][] = [
  ["/account", s.orders],
  ["/account/profile", s.profile],
  ["/account/addresses", s.addresses],
  ["/account/sessions", s.sessions],
  ["/account/password", s.password],
  ["/account/mfa", s.mfa],
  ["/account/delete", s.deleteAccount],
];

/** The account area's sections (the current one marked aria-current). */
export function AccountNav() {
  return (
    <nav aria-label={strings.account.settingsNav}>
      <ul className="settings-nav">
        {sections.map(([to, label]) => (
          <li key={to}><NavLink to={to} end>{label}</NavLink></li>
        ))}
      </ul>
    </nav>
  );
}
