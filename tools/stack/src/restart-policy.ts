/**
 * How the supervisor brings back a process that ended without being asked to, as an orchestrator
 * would: after a delay that doubles with each quick crash (0.5 s, 1 s, 2 s … 30 s), back to the first
 * delay once the process had stayed up a while.
 */
export interface RestartPolicy {
  /** Delay before the first restart (default 500 ms). */
  initialDelayMs?: number;
  /** Longest delay (default 30 000 ms). */
  maxDelayMs?: number;
  /** A process that ran at least this long before ending counts as healthy: the delay starts over (default 60 000 ms). */
  resetAfterMs?: number;
}

export interface Backoff {
  /** The delay before the next start, given how long the process that just ended had run. */
  next(uptimeMs: number): number;
}

export function createBackoff(policy: RestartPolicy = {}): Backoff {
  const initial = policy.initialDelayMs ?? 500;
  const max = policy.maxDelayMs ?? 30_000;
  const resetAfter = policy.resetAfterMs ?? 60_000;
  if (!(initial > 0 && max >= initial && resetAfter > 0)) {
    throw new RangeError(`restart policy: need 0 < initialDelayMs <= maxDelayMs and resetAfterMs > 0 (got ${initial}, ${max}, ${resetAfter})`);
  }
  let delay: number | undefined;
  return {
    next(uptimeMs) {
      delay = delay === undefined || uptimeMs >= resetAfter ? initial : Math.min(delay * 2, max);
      return delay;
    },
  };
}
