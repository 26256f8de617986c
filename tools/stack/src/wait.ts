import { setTimeout as sleep } from "node:timers/promises";

export interface WaitOptions {
  /** What is awaited, for the error message. */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** Checked between attempts; a reason string stops waiting at once (e.g. the process exited). */
  abortReason?: () => string | undefined;
}

/** Polls `probe` until it returns true; throws naming `what` after the timeout (default 30 s). */
export async function waitFor(probe: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const { what, timeoutMs = 30_000, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const reason = options.abortReason?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}
