// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// A labelled input with its own error under it (aria-invalid, aria-describedby), for the forms whose
// refusals name fields (google.rpc.BadRequest: see fieldErrors in refusals.ts).
import type { InputHTMLAttributes, TextareaHTMLAttributes } from "react";

interface FieldProps {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
}

function described(id: string, error: string | undefined, hint: string | undefined) {
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return { "aria-invalid": error ? true : undefined, "aria-describedby": ids || undefined };
}

function Notes({ id, error, hint }: Omit<FieldProps, "label">) {
  return (
    <>
      {hint && <small id={`${id}-hint`}>{hint}</small>}
      {error && <span id={`${id}-error`} className="error field-error">{error}</span>}
    </>
  );
}

export function Field({ id, label, error, hint, ...input }: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <p>
      <label htmlFor={id}>{label}</label>
      <input id={id} {...input} {...described(id, error, hint)} />
      <Notes id={id} error={error} hint={hint} />
    </p>
  );
}

export function TextArea({ id, label, error, hint, ...input }: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return (
    <p>
      <label htmlFor={id}>{label}</label>
      <textarea id={id} {...input} {...described(id, error, hint)} />
      <Notes id={id} error={error} hint={hint} />
    </p>
  );
}
