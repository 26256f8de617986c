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

/**
 * An uncontrolled input read from the form when it is submitted: what someone types before the page's
 * script has hydrated stays in the field and is sent (a controlled input's state would miss it).
 */
function Field(props: { id: string; label: string; type?: string; autoComplete: string; hint?: string; inputMode?: "numeric" }) {
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
        aria-describedby={props.hint ? `${props.id}-hint` : undefined}
      />
      {props.hint && <small id={`${props.id}-hint`} className="hint">{props.hint}</small>}
    </p>
  );
}

/** The submitted form's fields by name, as typed (passwords keep their spaces). */
function submitted(event: FormEvent<HTMLFormElement>): (name: string) => string {
  const form = new FormData(event.currentTarget);
  return (name) => String(form.get(name) ?? "");
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

/**
 * A form that sends once and then shows what it did: `send` gets the submitted fields; a refusal is
 * shown in words (`refused` for an unauthenticated one), and the button waits while it runs.
 */
function useSubmission(send: (field: (name: string) => string) => Promise<void>, refused: string) {
  const hydrated = useHydrated();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState("");
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const field = submitted(event);
    setBusy(true);
    setMessage("");
    try {
      await send(field);
    } catch (error) {
      setMessage(authMessage(error, refused));
    } finally {
      setBusy(false);
    }
  }
  return { message, busy, blocked: busy || !hydrated, onSubmit: (event: FormEvent<HTMLFormElement>) => void submit(event) };
}

export function SignInPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [challenge, setChallenge] = useState("");
  const form = useSubmission(async (field) => {
    if (challenge) {
      const code = field("mfa-code").trim();
      await api().completeMfaSignIn(challenge, /^\d{6}$/.test(code) ? { code } : { recoveryCode: code });
    } else {
      const step = await api().startSignIn(field("email"), field("password"));
      if (step.mfaChallenge) return setChallenge(step.mfaChallenge);
    }
    await navigate(safeNext(params.get("next")));
  }, challenge ? t.wrongCode : t.wrongCredentials);

  return (
    <section className="narrow">
      <h1>{t.signInTitle}</h1>
      <form onSubmit={form.onSubmit} className="stacked">
        {challenge ? (
          <Field id="mfa-code" label={t.mfaCode} autoComplete="one-time-code" hint={t.mfaHint} />
        ) : (
          <>
            <Field id="email" label={strings.email} type="email" autoComplete="email" />
            <Field id="password" label={t.password} type="password" autoComplete="current-password" />
          </>
        )}
        <Alert message={form.message} />
        <button type="submit" disabled={form.blocked}>{form.busy ? t.signingIn : challenge ? t.verify : t.signIn}</button>
      </form>
      <p><Link to="/forgot-password">{t.forgotPassword}</Link></p>
      <p>{t.noAccount} <Link to="/register">{t.register}</Link></p>
    </section>
  );
}

export function RegisterPage() {
  const [registered, setRegistered] = useState("");
  const form = useSubmission(async (field) => {
    await api().identity.register({ email: field("email"), password: field("new-password"), displayName: field("display-name") });
    setRegistered(field("email"));
  }, strings.somethingWrong);

  if (registered) {
    return (
      <section className="narrow">
        <h1>{t.registerTitle}</h1>
        <Notice>{t.registered(registered)}</Notice>
        <p><Link className="button" to="/sign-in">{t.signIn}</Link></p>
      </section>
    );
  }
  return (
    <section className="narrow">
      <h1>{t.registerTitle}</h1>
      <form onSubmit={form.onSubmit} className="stacked">
        <Field id="display-name" label={t.displayName} autoComplete="name" />
        <Field id="email" label={strings.email} type="email" autoComplete="email" />
        <Field id="new-password" label={t.password} type="password" autoComplete="new-password" hint={t.passwordHint} />
        <Alert message={form.message} />
        <button type="submit" disabled={form.blocked}>{t.register}</button>
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
  const [sent, setSent] = useState(false);
  const form = useSubmission(async (field) => {
    await api().identity.requestPasswordReset({ email: field("email") });
    setSent(true);
  }, strings.somethingWrong);
  return (
    <section className="narrow">
      <h1>{t.forgotTitle}</h1>
      {sent ? (
        <Notice>{t.resetSent}</Notice>
      ) : (
        <form onSubmit={form.onSubmit} className="stacked">
          <Field id="email" label={strings.email} type="email" autoComplete="email" />
          <Alert message={form.message} />
          <button type="submit" disabled={form.blocked}>{t.sendResetLink}</button>
        </form>
      )}
    </section>
  );
}

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [done, setDone] = useState(false);
  const form = useSubmission(async (field) => {
    await api().identity.completePasswordReset({ token, newPassword: field("new-password") });
    setDone(true);
  }, t.linkInvalid);
  const message = form.message || (token ? "" : t.missingToken);
  return (
    <section className="narrow">
      <h1>{t.resetTitle}</h1>
      {done ? (
        <>
          <Notice>{t.passwordChanged}</Notice>
          <p><Link className="button" to="/sign-in">{t.signIn}</Link></p>
        </>
      ) : (
        <form onSubmit={form.onSubmit} className="stacked">
          <Field id="new-password" label={t.newPassword} type="password" autoComplete="new-password" hint={t.passwordHint} />
          <Alert message={message} />
          <button type="submit" disabled={form.blocked || !token}>{t.savePassword}</button>
        </form>
      )}
    </section>
  );
}
