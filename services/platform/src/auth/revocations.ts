// Users whose access tokens stop working before they expire: identity's UserDisabled and UserDeleted
// events (fed by auth/revocation-feed.ts) record "refuse this subject's tokens issued up to then".
// Checked after every verification, cached or not, so no cache lets a revoked token through.
import { UnauthenticatedError } from "../errors.ts";
import type { Principal } from "../principal.ts";
import type { TokenVerifier } from "./token-verifier.ts";

export interface RevocationsOptions {
  /**
   * How long a revocation is remembered: at least the access-token lifetime, after which every token
   * issued before it has expired anyway. Default 20 minutes (identity's tokens live 15).
   */
  retainMs?: number;
}

export interface Revocations {
  /** Refuse `subject`'s tokens issued at or before `at` (the event's time). A later call with an older time changes nothing. */
  revoke(subject: string, at: Date, why: "disabled" | "deleted"): void;
  /** Why `principal` is revoked ("disabled"/"deleted"), or undefined when it is not. */
  revoked(principal: Principal): "disabled" | "deleted" | undefined;
  /** Subjects currently remembered. */
  size(): number;
}

export function createRevocations(options: RevocationsOptions = {}): Revocations {
  const retainMs = options.retainMs ?? 20 * 60_000;
  // subject → the latest revocation (milliseconds) and why.
  const bySubject = new Map<string, { atMs: number; why: "disabled" | "deleted"; forgetAt: number }>();
  const prune = (now: number) => {
    for (const [subject, entry] of bySubject) if (entry.forgetAt <= now) bySubject.delete(subject);
  };
  return {
    revoke(subject, at, why) {
      const now = Date.now();
      const atMs = at.getTime();
      const known = bySubject.get(subject);
      if (!known || known.atMs <= atMs) bySubject.set(subject, { atMs, why, forgetAt: atMs + retainMs });
      if (bySubject.size % 1000 === 0) prune(now);
    },
    revoked(principal) {
      if (principal.kind !== "user") return undefined;
      const entry = bySubject.get(principal.subject);
      if (!entry) return undefined;
      // Identity's tokens carry their issue time to the millisecond (a UUIDv7 jti), so a user re-enabled
      // and signed in again within the second of the event is let in; a token known only to the second
      // counts as issued at that second's start (it may predate the event).
      const issuedAtMs = principal.issuedAtMs ?? (principal.issuedAt === undefined ? undefined : principal.issuedAt * 1000);
      if (issuedAtMs === undefined || issuedAtMs <= entry.atMs) return entry.why;
      return undefined;
    },
    size: () => bySubject.size,
  };
}

/** `verifier`, refusing (unauthenticated, reason TOKEN_REVOKED) the tokens `revocations` names. */
export function refusingRevoked(verifier: TokenVerifier, revocations: Revocations): TokenVerifier {
  return {
    async verify(token) {
      const principal = await verifier.verify(token);
      const why = revocations.revoked(principal);
      if (why) throw new UnauthenticatedError(`token revoked: the account was ${why} after it was issued`, { reason: "TOKEN_REVOKED" });
      return principal;
    },
    close: () => verifier.close?.(),
  };
}
