// Failed sign-ins slow down, per account and per client address: after `free` failures inside the
// window, every further attempt must wait 1 s, 2 s, 4 s … (capped) after the last failure. Counted in
// the database so every instance sees the same numbers. Unknown emails count like known ones.
import { ResourceExhaustedError, type EntityManager } from "@bazaar/platform";

export interface ThrottleKey {
  key: string;
  /** Failures allowed before delays begin. */
  free: number;
}

export interface LoginThrottleOptions {
  maxDelaySeconds: number;
  windowSeconds: number;
  /** Failures of one account allowed before delays begin. */
  freeFailuresPerAccount: number;
  /** Failures from one client address allowed before delays begin. */
  freeFailuresPerAddress: number;
}

export interface LoginThrottle {
  /** The keys a sign-in attempt for `email` from client address `address` counts against. */
  keysFor(email: string, address: string): ThrottleKey[];
  /** Throws ResourceExhaustedError (with the wait) when any key must still wait. */
  check(em: EntityManager, keys: ThrottleKey[]): Promise<void>;
  recordFailure(em: EntityManager, keys: ThrottleKey[]): Promise<void>;
  /** A success clears the account's count (not the address's: one good account must not launder guesses on others). */
  clear(em: EntityManager, key: string): Promise<void>;
}

export function accountKey(email: string): string {
  return `account:${email.slice(0, 254)}`;
}

export function addressKey(address: string): string {
  return `address:${address.slice(0, 64)}`;
}

export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const delayMs = (failures: number, free: number) =>
    failures < free ? 0 : Math.min(2 ** Math.min(failures - free, 30) * 1000, options.maxDelaySeconds * 1000);
  return {
    keysFor: (email, address) => [
      { key: accountKey(email), free: options.freeFailuresPerAccount },
      { key: addressKey(address), free: options.freeFailuresPerAddress },
    ],
    async check(em, keys) {
      if (keys.length === 0) return;
      const rows = await em.execute<Array<{ key: string; failures: number; last_failure_at: Date }>>(
        `select key, failures, last_failure_at from login_failures
          where key in (${keys.map(() => "?").join(", ")}) and last_failure_at > now() - make_interval(secs => ?)`,
        [...keys.map((k) => k.key), options.windowSeconds],
      );
      let waitMs = 0;
      for (const row of rows) {
        const free = keys.find((k) => k.key === row.key)?.free ?? 0;
        const until = new Date(row.last_failure_at).getTime() + delayMs(row.failures, free);
        waitMs = Math.max(waitMs, until - Date.now());
      }
      if (waitMs > 0) {
        throw new ResourceExhaustedError(`too many failed sign-ins; try again in ${Math.ceil(waitMs / 1000)} s`, {
          retryAfterMs: waitMs,
          reason: "LOGIN_THROTTLED",
        });
      }
    },
    async recordFailure(em, keys) {
      for (const { key } of keys) {
        await em.execute(
          `insert into login_failures (key, failures, last_failure_at) values (?, 1, now())
           on conflict (key) do update set
             failures = case when login_failures.last_failure_at < now() - make_interval(secs => ?) then 1 else login_failures.failures + 1 end,
             last_failure_at = now()`,
          [key, options.windowSeconds],
          "run",
        );
      }
    },
    async clear(em, key) {
      await em.execute("delete from login_failures where key = ?", [key], "run");
    },
  };
}

/**
 * The client's address for rate limiting: the first entry of `x-forwarded-for`, else `x-real-ip` (both
 * set by the edge), else "unknown". Behind anything but the edge these headers are client-controlled.
 */
export function clientAddress(headers: Headers): string {
  const forwarded = headers.get("x-forwarded-for")?.split(",", 1)[0]?.trim();
  const address = forwarded || headers.get("x-real-ip")?.trim() || "unknown";
  return address.slice(0, 64);
}
