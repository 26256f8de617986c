// Failed sign-ins slow down, per account and per client address (and requests for emails — verification,
// password reset — with their own keys, every request counted): after `free` failures inside the
// window, every further attempt must wait 1 s, 2 s, 4 s … (capped) after the last failure. Counted in
// the database so every instance sees the same numbers. Unknown emails count like known ones.
//
// An attempt on an account is counted *before* the password is verified, in one conditional upsert: of
// many concurrent guesses only those the count still allows get as far as argon2 (check-then-record
// would let them all through). A correct password clears it. The client address is checked before and
// charged after a failure: many people share an address (NAT, and "unknown" for callers inside the mesh),
// and their concurrent good sign-ins must not count against it even for a moment.
import { ResourceExhaustedError, sql, type EntityManager } from "@bazaar/platform";
import { tables } from "./users.ts";

export interface ThrottleKey {
  key: string;
  /** Failures allowed before delays begin. */
  free: number;
  /** Counted before the verification (the account), rather than checked before and charged after a failure (the address). */
  countedFirst: boolean;
}

/** How a throttled attempt is refused (default: a sign-in's, LOGIN_THROTTLED). */
export interface ThrottleRefusal {
  reason: string;
  /** "too many <what>", e.g. "failed sign-ins". */
  what: string;
}

const SIGN_IN_REFUSAL: ThrottleRefusal = { reason: "LOGIN_THROTTLED", what: "failed sign-ins" };

export interface LoginThrottleOptions {
  /** The wait after the first failure past the free ones; doubled by each further failure. */
  firstDelaySeconds: number;
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
  /**
   * Before verifying: counts the attempt against the counted-first keys atomically and checks the
   * others; throws ResourceExhaustedError (with the wait, nothing counted) when any key must still
   * wait. Run it in its own transaction, committed before the verification.
   */
  attempt(em: EntityManager, keys: ThrottleKey[], refusal?: ThrottleRefusal): Promise<void>;
  /** The attempt failed: charges the keys not counted already. */
  failed(em: EntityManager, keys: ThrottleKey[]): Promise<void>;
  /**
   * The attempt succeeded: clears the account's count (not the address's: one good account must not
   * launder guesses on others).
   */
  succeeded(em: EntityManager, keys: ThrottleKey[]): Promise<void>;
}

export function accountKey(email: string): string {
  return `account:${email.slice(0, 254)}`;
}

export function addressKey(address: string): string {
  return `address:${address.slice(0, 64)}`;
}

export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const windowStart = sql<Date>`now() - make_interval(secs => ${options.windowSeconds})`;
  const delayMs = (failures: number, free: number) =>
    failures < free ? 0 : Math.min(options.firstDelaySeconds * 2 ** Math.min(failures - free, 30) * 1000, options.maxDelaySeconds * 1000);
  const throttled = (waitMs: number, refusal: ThrottleRefusal) =>
    new ResourceExhaustedError(`too many ${refusal.what}; try again in ${Math.ceil(waitMs / 1000)} s`, { retryAfterMs: waitMs, reason: refusal.reason });
  return {
    keysFor: (email, address) => [
      { key: accountKey(email), free: options.freeFailuresPerAccount, countedFirst: true },
      { key: addressKey(address), free: options.freeFailuresPerAddress, countedFirst: false },
    ],
    async attempt(em, keys, refusal = SIGN_IN_REFUSAL) {
      // Always in the same order, so concurrent attempts on the same keys never deadlock.
      for (const { key, free, countedFirst } of [...keys].sort((x, y) => x.key.localeCompare(y.key))) {
        if (!countedFirst) {
          const row = await tables(em).selectFrom("login_failures").select(["failures", "last_failure_at"]).where("key", "=", key).where("last_failure_at", ">", windowStart).executeTakeFirst();
          const waitMs = row ? row.last_failure_at.getTime() + delayMs(row.failures, free) - Date.now() : 0;
          if (waitMs > 0) throw throttled(waitMs, refusal);
          continue;
        }
        const counted = await tables(em)
          .insertInto("login_failures")
          .values({ key, failures: 1, last_failure_at: sql<Date>`now()` })
          .onConflict((oc) =>
            oc
              .column("key")
              .doUpdateSet((eb) => ({
                failures: eb.case().when("login_failures.last_failure_at", "<", windowStart).then(1).else(eb("login_failures.failures", "+", 1)).end(),
                last_failure_at: sql<Date>`now()`,
              }))
              // The row is locked and re-read here, so concurrent attempts each see the previous count.
              .where(
                sql<boolean>`login_failures.last_failure_at < ${windowStart} or login_failures.failures < ${free}
                  or login_failures.last_failure_at + make_interval(secs => least(${options.firstDelaySeconds} * power(2, least(login_failures.failures - ${free}, 30)), ${options.maxDelaySeconds})) <= now()`,
              ),
          )
          .returning("failures")
          .executeTakeFirst();
        if (counted) continue;
        const row = await tables(em).selectFrom("login_failures").select(["failures", "last_failure_at"]).where("key", "=", key).executeTakeFirstOrThrow();
        throw throttled(Math.max(row.last_failure_at.getTime() + delayMs(row.failures, free) - Date.now(), 1000), refusal);
      }
    },
    async failed(em, keys) {
      for (const { key } of keys.filter((k) => !k.countedFirst)) {
        await tables(em)
          .insertInto("login_failures")
          .values({ key, failures: 1, last_failure_at: sql<Date>`now()` })
          .onConflict((oc) =>
            oc.column("key").doUpdateSet((eb) => ({
              failures: eb.case().when("login_failures.last_failure_at", "<", windowStart).then(1).else(eb("login_failures.failures", "+", 1)).end(),
              last_failure_at: sql<Date>`now()`,
            })),
          )
          .execute();
      }
    },
    async succeeded(em, keys) {
      for (const { key } of keys.filter((k) => k.countedFirst)) await tables(em).deleteFrom("login_failures").where("key", "=", key).execute();
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

/** Requests that send an email (verification, password reset): every request counts, per subject and per client address. */
export interface EmailRequestThrottle {
  /** Counts a request about `subject` (e.g. "reset:<email>") from `address`; ResourceExhaustedError (EMAIL_REQUESTS_THROTTLED) when it must wait. */
  attempt(em: EntityManager, subject: string, address: string): Promise<void>;
}

export function createEmailRequestThrottle(throttle: LoginThrottle, options: { freePerSubject: number; freePerAddress: number }): EmailRequestThrottle {
  const refusal: ThrottleRefusal = { reason: "EMAIL_REQUESTS_THROTTLED", what: "email requests" };
  return {
    attempt: (em, subject, address) =>
      throttle.attempt(
        em,
        [
          { key: `email-request:${subject.slice(0, 260)}`, free: options.freePerSubject, countedFirst: true },
          { key: `email-request-address:${address.slice(0, 64)}`, free: options.freePerAddress, countedFirst: true },
        ],
        refusal,
      ),
  };
}
