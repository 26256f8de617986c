// Whether the shopper is signed in, for the pages: unknown until the browser has tried to resume the
// session from the edge's cookie (the server renders every page signed out, so pages stay cacheable).
import { useSyncExternalStore } from "react";

export type SessionState = { kind: "unknown" } | { kind: "signed-out" } | { kind: "signed-in"; userId: string };

let current: SessionState = { kind: "unknown" };
const listeners = new Set<() => void>();
const unknown: SessionState = { kind: "unknown" };

export function setSession(next: SessionState): void {
  if (next.kind === current.kind && (next.kind !== "signed-in" || (current.kind === "signed-in" && current.userId === next.userId))) return;
  current = next;
  for (const listener of listeners) listener();
}

export const sessionNow = (): SessionState => current;

export function useSession(): SessionState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
    () => unknown,
  );
}
