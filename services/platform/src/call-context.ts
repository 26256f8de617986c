import { AsyncLocalStorage } from "node:async_hooks";
import type { Principal } from "./principal.ts";

/**
 * What the runtime knows about the RPC (or event) being handled, available to everything that runs on
 * its behalf without being passed along: outgoing calls inherit its deadline, cancellation and
 * credentials from here.
 */
export interface CallContext {
  /** Aborts when the caller hangs up or its deadline passes. */
  signal: AbortSignal;
  /** Absolute deadline (epoch ms) when the caller set one. */
  deadline?: number;
  /** Set by the auth interceptor once the bearer token verified. */
  principal?: Principal;
}

const storage = new AsyncLocalStorage<CallContext>();

/** Runs `fn` with `context` as the current call context. */
export function runInCallContext<T>(context: CallContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The call being handled, if any. */
export function currentCall(): CallContext | undefined {
  return storage.getStore();
}

/** Milliseconds left before the current call's deadline, or undefined when there is none. */
export function remainingMs(context: CallContext | undefined = currentCall()): number | undefined {
  return context?.deadline === undefined ? undefined : Math.max(0, context.deadline - Date.now());
}
