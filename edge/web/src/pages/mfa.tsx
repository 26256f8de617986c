// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// Two-step verification (/account/mfa): EnrollMfa's otpauth:// URI as a QR code (uqr: encoded in the
// browser, drawn as SVG — the secret never leaves the page for an image service) and the secret as text,
// ConfirmMfa with a code from the app, the recovery codes shown once; DisableMfa with the password and
// a code. A chunk of its own (only this page carries the QR encoder).
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectQueryKey, useMutation, useQuery } from "@connectrpc/connect-query";
import { useState } from "react";
import { encode } from "uqr";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { queryClient } from "../query.tsx";
import { strings } from "../strings.ts";
import { Field } from "./field.tsx";
import { refusalMessage } from "./refusals.ts";
import { AccountNav, SignedIn, Status, useUserId } from "./signed-in.tsx";

const s = strings.settings;
const refusedCode = (error: unknown) => error instanceof ConnectError && error.code === Code.Unauthenticated;
const refetchUser = () => queryClient.invalidateQueries({ queryKey: createConnectQueryKey({ schema: IdentityService.method.getUser, cardinality: "finite" }) });

export function MfaPage() {
  return (
    <SignedIn>
      <section>
        <h1>{s.mfaTitle}</h1>
        <AccountNav />
        <Mfa />
      </section>
    </SignedIn>
  );
}

/** A QR code of `text` as SVG: one square per dark module, crisp at any size. */
function QrCode({ text, label }: { text: string; label: string }) {
  const qr = encode(text, { ecc: "M", border: 2 });
  const path = qr.data.flatMap((row, y) => row.flatMap((dark, x) => (dark ? [`M${x} ${y}h1v1h-1z`] : []))).join("");
  return (
    <svg className="qr" role="img" aria-label={label} viewBox={`0 0 ${qr.size} ${qr.size}`} shapeRendering="crispEdges">
      <rect width={qr.size} height={qr.size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}

function Mfa() {
  const userId = useUserId();
  const user = useQuery(IdentityService.method.getUser, { userId });
  const [recoveryCodes, setRecoveryCodes] = useState<string[]>([]);
  if (recoveryCodes.length > 0) return <RecoveryCodes codes={recoveryCodes} onDone={() => setRecoveryCodes([])} />;
  if (!user.data?.user) return <Status query={user} />;
  return user.data.user.mfaEnabled ? <Disable /> : <Enrol onConfirmed={setRecoveryCodes} />;
}

function Enrol({ onConfirmed }: { onConfirmed: (codes: string[]) => void }) {
  const [code, setCode] = useState("");
  const enrol = useMutation(IdentityService.method.enrollMfa);
  const confirm = useMutation(IdentityService.method.confirmMfa, {
    onSuccess: async (answer) => {
      onConfirmed(answer.recoveryCodes);
      await refetchUser();
    },
  });
  if (!enrol.data) {
    return (
      <>
        <p>{s.mfaOff}</p>
        <div role="alert">{enrol.error && <p className="error">{refusalMessage(enrol.error)}</p>}</div>
        <button type="button" onClick={() => enrol.mutate({})} disabled={enrol.isPending}>{enrol.isPending ? strings.loading : s.mfaStart}</button>
      </>
    );
  }
  return (
    <form className="stacked" onSubmit={(e) => { e.preventDefault(); confirm.mutate({ code: code.replace(/\s/g, "") }); }}>
      <p>{s.mfaScan}</p>
      <QrCode text={enrol.data.provisioningUri} label={s.mfaQr} />
      <p>{s.mfaSecret}: <code className="secret" data-testid="mfa-secret">{enrol.data.secret}</code></p>
      <Field id="mfa-code" label={s.mfaCode} inputMode="numeric" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} error={refusedCode(confirm.error) ? s.mfaWrongCode : undefined} />
      <div role="alert">{confirm.error && !refusedCode(confirm.error) && <p className="error">{refusalMessage(confirm.error)}</p>}</div>
      <button type="submit" disabled={confirm.isPending}>{s.mfaConfirm}</button>
    </form>
  );
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  return (
    <section aria-labelledby="recovery-title">
      <p role="status" className="notice">{s.mfaOn}</p>
      <h2 id="recovery-title">{s.recoveryTitle}</h2>
      <p>{s.recoveryHint}</p>
      <ul className="codes" data-testid="recovery-codes">
        {codes.map((c) => <li key={c}>{c}</li>)}
      </ul>
      <button type="button" onClick={onDone}>{s.recoveryDone}</button>
    </section>
  );
}

function Disable() {
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const disable = useMutation(IdentityService.method.disableMfa, { onSuccess: refetchUser });
  // A 6-digit answer is a TOTP code; anything else is taken as a recovery code.
  const answer = code.replace(/\s/g, "");
  return (
    <form className="stacked" onSubmit={(e) => { e.preventDefault(); disable.mutate({ password, ...(/^\d{6}$/.test(answer) ? { code: answer } : { recoveryCode: answer }) }); }}>
      <p>{s.mfaOn}</p>
      <fieldset>
        <legend>{s.mfaDisable}</legend>
        <p>{s.mfaDisableHint}</p>
        <Field id="mfa-disable-password" label={strings.account.password} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <Field id="mfa-disable-code" label={s.mfaCodeOrRecovery} autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
      </fieldset>
      <div role="alert">{disable.error && <p className="error">{refusedCode(disable.error) ? s.mfaDisableRefused : refusalMessage(disable.error)}</p>}</div>
      <button type="submit" disabled={disable.isPending}>{s.mfaDisable}</button>
    </form>
  );
}
