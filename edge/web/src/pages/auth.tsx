// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// Signing in (with the MFA step when Login asks for it), registering, and the pages the identity
// emails link to: /verify-email?token=… and /reset-password?token=… (services/notification builds
// those links). A chunk of its own: the first page's JavaScript does not carry it.
import { Code, ConnectError } from "@connectrpc/connect";
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api } from "../api.ts";
import { strings } from "../strings.ts";
import { refusalMessage } from "./refusals.ts";

const t = strings.account;

/** Identity's refusals of credentials and tokens, in words. */
function authMessage(error: unknown, unauthenticated: string): string {
  if (error instanceof ConnectError) {
    if (error.code === Code.Unauthenticated) return unauthenticated;
    if (error.code === Code.ResourceExhausted) return t.tooManyAttempts;
    if (error.code === Code.PermissionDenied) return t.accountDisabled;
    if (error.code === Code.AlreadyExists) return t.emailTaken;
  }
  return refusalMessage(error);
}

function Field(props: { id: string; label: string; type?: string; autoComplete: string; value: string; onChange: (value: string) => void; hint?: string; inputMode?: "numeric" }) {
  return (
    <p>
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.id}
        type={props.type ?? "text"}
        autoComplete={props.autoComplete}
        inputMode={props.inputMode}
        required
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        aria-describedby={props.hint ? `${props.id}-hint` : undefined}
      />
      {props.hint && <small id={`${props.id}-hint`} className="hint">{props.hint}</small>}
    </p>
  );
}

function Alert({ message }: { message: string }) {
  return <div role="alert">{message && <p className="error">{message}</p>}</div>;
}

function Notice({ children }: { children: ReactNode }) {
  return <p role="status" className="notice">{children}</p>;
}

/** Only paths of this shop are followed after signing in (no open redirect). */
const safeNext = (next: string | null) => (next && next.startsWith("/") && !next.startsWith("//") ? next : "/account");

/**
 * False in the server's HTML and until hydration: the forms' buttons wait for it, so a form submitted
 * before the page's script runs never goes out natively (as a GET, with the password in the URL).
 */
function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}

export function SignInPage() {
  const hydrated = useHydrated();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [challenge, setChallenge] = useState("");
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState("");

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setMessage("");
    try {
      if (challenge) {
        const answer = /^\d{6}$/.test(code.trim()) ? { code: code.trim() } : { recoveryCode: code.trim() };
        await api().completeMfaSignIn(challenge, answer);
      } else {
        const step = await api().startSignIn(email, password);
        if (step.mfaChallenge) {
          setChallenge(step.mfaChallenge);
          setBusy(false);
          return;
        }
      }
      await navigate(safeNext(params.get("next")));
    } catch (error) {
      setMessage(authMessage(error, challenge ? t.wrongCode : t.wrongCredentials));
      setBusy(false);
    }
  }

  return (
    <section className="narrow">
      <h1>{t.signInTitle}</h1>
      <form onSubmit={(e) => void submit(e)} className="stacked">
        {challenge ? (
          <Field id="mfa-code" label={t.mfaCode} autoComplete="one-time-code" value={code} onChange={setCode} hint={t.mfaHint} />
        ) : (
          <>
            <Field id="email" label={strings.email} type="email" autoComplete="email" value={email} onChange={setEmail} />
            <Field id="password" label={t.password} type="password" autoComplete="current-password" value={password} onChange={setPassword} />
          </>
        )}
        <Alert message={message} />
        <button type="submit" disabled={busy || !hydrated}>{busy ? t.signingIn : challenge ? t.verify : t.signIn}</button>
      </form>
      <p><Link to="/forgot-password">{t.forgotPassword}</Link></p>
      <p>{t.noAccount} <Link to="/register">{t.register}</Link></p>
    </section>
  );
}

export function RegisterPage() {
  const hydrated = useHydrated();
  const [email, setEmail] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState("");
  const [done, setDone] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setMessage("");
    try {
      await api().identity.register({ email, password, displayName });
      setDone(true);
    } catch (error) {
      setMessage(authMessage(error, strings.somethingWrong));
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <section className="narrow">
        <h1>{t.registerTitle}</h1>
        <Notice>{t.registered(email)}</Notice>
        <p><Link className="button" to="/sign-in">{t.signIn}</Link></p>
      </section>
    );
  }
  return (
    <section className="narrow">
      <h1>{t.registerTitle}</h1>
      <form onSubmit={(e) => void submit(e)} className="stacked">
        <Field id="display-name" label={t.displayName} autoComplete="name" value={displayName} onChange={setDisplayName} />
        <Field id="email" label={strings.email} type="email" autoComplete="email" value={email} onChange={setEmail} />
        <Field id="new-password" label={t.password} type="password" autoComplete="new-password" value={password} onChange={setPassword} hint={t.passwordHint} />
        <Alert message={message} />
        <button type="submit" disabled={busy || !hydrated}>{t.register}</button>
      </form>
      <p><Link to="/sign-in">{t.signIn}</Link></p>
    </section>
  );
}

export function VerifyEmailPage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [state, setState] = useState<"verifying" | "verified" | "invalid" | "error">(token ? "verifying" : "invalid");
  const [message, setMessage] = useState(token ? "" : t.missingToken);
  // The token is single-use: send it once, whatever React does with effects.
  const sent = useRef(false);
  useEffect(() => {
    if (!token || sent.current) return;
    sent.current = true;
    api()
      .identity.verifyEmail({ token })
      .then(() => setState("verified"))
      .catch((error: unknown) => {
        setState("error");
        setMessage(authMessage(error, t.linkInvalid));
      });
  }, [token]);
  return (
    <section className="narrow">
      <h1>{t.verifyTitle}</h1>
      {state === "verifying" && <p role="status">{t.verifying}</p>}
      {state === "verified" && (
        <>
          <Notice>{t.verified}</Notice>
          <p><Link className="button" to="/sign-in">{t.signIn}</Link></p>
        </>
      )}
      <Alert message={message} />
    </section>
  );
}

export function ForgotPasswordPage() {
  const hydrated = useHydrated();
  const [email, setEmail] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState("");
  const [sent, setSent] = useState(false);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setMessage("");
    try {
      await api().identity.requestPasswordReset({ email });
      setSent(true);
    } catch (error) {
      setMessage(authMessage(error, strings.somethingWrong));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="narrow">
      <h1>{t.forgotTitle}</h1>
      {sent ? (
        <Notice>{t.resetSent}</Notice>
      ) : (
        <form onSubmit={(e) => void submit(e)} className="stacked">
          <Field id="email" label={strings.email} type="email" autoComplete="email" value={email} onChange={setEmail} />
          <Alert message={message} />
          <button type="submit" disabled={busy || !hydrated}>{t.sendResetLink}</button>
        </form>
      )}
    </section>
  );
}

export function ResetPasswordPage() {
  const hydrated = useHydrated();
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState(token ? "" : t.missingToken);
  const [done, setDone] = useState(false);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setMessage("");
    try {
      await api().identity.completePasswordReset({ token, newPassword: password });
      setDone(true);
    } catch (error) {
      setMessage(authMessage(error, t.linkInvalid));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="narrow">
      <h1>{t.resetTitle}</h1>
      {done ? (
        <>
          <Notice>{t.passwordChanged}</Notice>
          <p><Link className="button" to="/sign-in">{t.signIn}</Link></p>
        </>
      ) : (
        <form onSubmit={(e) => void submit(e)} className="stacked">
          <Field id="new-password" label={t.newPassword} type="password" autoComplete="new-password" value={password} onChange={setPassword} hint={t.passwordHint} />
          <Alert message={message} />
          <button type="submit" disabled={busy || !token || !hydrated}>{t.savePassword}</button>
        </form>
      )}
    </section>
  );
}
