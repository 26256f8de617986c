// The console's small shared pieces: the signed-in client, refusals with their reason, a confirm
// dialog for destructive actions, keyset paging, money and dates.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type InputHTMLAttributes, type ReactNode } from "react";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { create } from "@bufbuild/protobuf";
import { MoneySchema, type Money } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { StaffClient } from "./session.ts";

export const StaffContext = createContext<StaffClient | undefined>(undefined);

/** The signed-in staff client (the layout renders pages only when there is one). */
export function useStaff(): StaffClient {
  const client = useContext(StaffContext);
  if (!client) throw new Error("console: no signed-in client");
  return client;
}

/**
 * One labelled form row: the label, an input taking the remaining props (or `children` — a select,
 * a textarea — carrying the same `id`), and an optional hint the input is described by.
 */
export function FormRow({ id, label, hint, children, ...input }: { id: string; label: string; hint?: string; children?: ReactNode } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <p className="field">
      <label htmlFor={id}>{label}</label>
      {children ?? <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />}
      {hint && <span id={`${id}-hint`} className="hint">{hint}</span>}
    </p>
  );
}

export const conflictMessage = "Changed by someone else — reload to see the current version, then make your change again.";

/** A refusal of the API as a sentence with its reason (ErrorInfo reason, field violations). */
export function describeRefusal(error: unknown): string {
  if (!(error instanceof ConnectError)) return error instanceof Error ? error.message : String(error);
  if (error.code === Code.Aborted) return conflictMessage;
  const reason = error.findDetails(ErrorInfoSchema)[0]?.reason;
  const fields = error.findDetails(BadRequestSchema).flatMap((detail) => detail.fieldViolations.map((v) => `${v.field}: ${v.description}`));
  const parts = [error.rawMessage || Code[error.code]];
  if (reason) parts.push(`(${reason})`);
  if (fields.length > 0 && !fields.every((f) => error.rawMessage.includes(f))) parts.push(`— ${fields.join("; ")}`);
  return `Refused: ${parts.join(" ")}`;
}

export function Refusal({ error, onReload }: { error: unknown; onReload?: () => void }) {
  if (!error) return null;
  const conflict = error instanceof ConnectError && error.code === Code.Aborted;
  return (
    <div role="alert" className="refusal">
      <p>{describeRefusal(error)}</p>
      {conflict && onReload && <button type="button" onClick={onReload}>Reload</button>}
    </div>
  );
}

/** Loads on mount and when `deps` change (the loader itself may change every render); `reload` loads again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error?: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ data: previous.data, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => current && setState({ error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [...deps, round]);
  return { ...state, reload: useCallback(() => setRound((r) => r + 1), []) };
}

/** Runs an action, keeping its error and whether it is running (buttons are disabled meanwhile). */
export function useAction(): { run: (action: () => Promise<unknown>) => Promise<boolean>; error: unknown; busy: boolean; clear: () => void } {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, error, busy, clear: useCallback(() => setError(undefined), []) };
}

/**
 * A button whose action must be confirmed in a modal dialog (focus moves into it, Escape cancels).
 * For destructive actions: cancel, refund, archive, delete.
 */
export function ConfirmButton({ label, question, confirmLabel, onConfirm, disabled, children }: { label: string; question: string; confirmLabel: string; onConfirm: () => void; disabled?: boolean; children?: ReactNode }) {
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button type="button" className="danger" disabled={disabled} onClick={() => dialog.current?.showModal()}>{label}</button>
      <dialog ref={dialog} aria-label={question}>
        <form method="dialog" onSubmit={(event) => {
          const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
          if (submitter?.value === "confirm") onConfirm();
        }}>
          <p>{question}</p>
          {children}
          <div className="actions">
            <button type="submit" value="cancel" className="secondary" autoFocus>Keep it</button>
            <button type="submit" value="confirm" className="danger">{confirmLabel}</button>
          </div>
        </form>
      </dialog>
    </>
  );
}

/** Keyset paging: the tokens of the pages seen, so "Previous" goes back without offsets. */
export function usePages(resetKey: string): { token: string; next: (token: string) => void; previous: () => void; first: () => void; page: number } {
  const [tokens, setTokens] = useState<string[]>([""]);
  useEffect(() => setTokens([""]), [resetKey]);
  return {
    token: tokens[tokens.length - 1] ?? "",
    page: tokens.length,
    next: (token) => setTokens((t) => [...t, token]),
    previous: () => setTokens((t) => (t.length > 1 ? t.slice(0, -1) : t)),
    first: () => setTokens([""]),
  };
}

export function Pager({ pages, nextToken }: { pages: ReturnType<typeof usePages>; nextToken?: string }) {
  return (
    <nav aria-label="Pages" className="pager">
      <button type="button" className="secondary" disabled={pages.page === 1} onClick={pages.previous}>Previous page</button>
      <span>Page {pages.page}</span>
      <button type="button" className="secondary" disabled={!nextToken} onClick={() => nextToken && pages.next(nextToken)}>Next page</button>
    </nav>
  );
}

const minorDigits = (currency: string) => new Intl.NumberFormat("en-US", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;

export function formatMoney(money: Money | undefined): string {
  if (!money || !money.currencyCode) return "—";
  return new Intl.NumberFormat("en-US", { style: "currency", currency: money.currencyCode }).format(Number(money.amountMinor) / 10 ** minorDigits(money.currencyCode));
}

/** "12.99" in USD → 1299n; undefined when it is not an amount. */
export function parseAmount(text: string, currency: string): bigint | undefined {
  const digits = minorDigits(currency);
  const match = /^\s*(\d+)(?:\.(\d+))?\s*$/.exec(text);
  if (!match || (match[2]?.length ?? 0) > digits) return undefined;
  return BigInt(match[1]!) * 10n ** BigInt(digits) + BigInt((match[2] ?? "").padEnd(digits, "0") || "0");
}

/** Minor units back to the decimal text an input shows. */
export function amountText(amountMinor: bigint, currency: string): string {
  const digits = minorDigits(currency);
  if (digits === 0) return amountMinor.toString();
  const text = amountMinor.toString().padStart(digits + 1, "0");
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** "USD 12.99, EUR 11.50" → one Money per entry; throws naming the field. */
export function parseMoneyList(text: string, field: string): Money[] {
  return text.split(",").map((p) => p.trim()).filter(Boolean).map((price) => {
    const match = /^([A-Za-z]{3})\s+(\S+)$/.exec(price);
    const currencyCode = match?.[1]?.toUpperCase() ?? "";
    const amountMinor = match ? parseAmount(match[2]!, currencyCode) : undefined;
    if (amountMinor === undefined) throw new Error(`${field}: "${price}" is not an amount like "USD 12.99"`);
    return create(MoneySchema, { currencyCode, amountMinor });
  });
}

/** Money back to the text parseMoneyList reads. */
export const moneyListText = (list: readonly Money[]) => list.map((m) => `${m.currencyCode} ${amountText(m.amountMinor, m.currencyCode)}`).join(", ");

export function formatTime(timestamp: Timestamp | undefined): string {
  if (!timestamp) return "—";
  return new Date(Number(timestamp.seconds) * 1000).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }) + " UTC";
}

/** An enum value's name as the API spells it (OrderStatus.SHIPPED → "SHIPPED", LOW_STOCK → "LOW STOCK"). */
export function enumName(names: Record<number, string>, value: number): string {
  return (names[value] ?? String(value)).replaceAll("_", " ");
}
