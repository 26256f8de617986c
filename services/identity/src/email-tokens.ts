// Single-use tokens sent by email (verify an address, reset a password): only their hash is stored.
import type { EntityManager } from "@bazaar/platform";
import { randomToken, tokenHash } from "./crypto.ts";

export type EmailTokenPurpose = "verify_email" | "reset_password";

/** Stores a new token for `userId` valid `ttlSeconds`, in `em`'s transaction; returns it (for the email) and when it expires. */
export async function issueEmailToken(em: EntityManager, userId: string, purpose: EmailTokenPurpose, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> {
  const token = randomToken();
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  await em.execute("insert into email_tokens (token_hash, user_id, purpose, expires_at) values (?, ?, ?, ?)", [tokenHash(token), userId, purpose, expiresAt], "run");
  return { token, expiresAt };
}
