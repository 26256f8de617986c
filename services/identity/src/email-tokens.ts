// Single-use tokens sent by email (verify an address, reset a password): only their hash is stored, and
// the event that asks for the email carries the token sealed to the notification service's key, never
// in clear (docs: services/notification/README.md, "Tokens off the bus").
import { sql, type EntityManager, type Sealer } from "@bazaar/platform";
import { randomToken, tokenHash } from "./crypto.ts";
import { tables } from "./users.ts";

export type EmailTokenPurpose = "verify_email" | "reset_password";

/**
 * Stores a new token for `userId` valid `ttlSeconds`, in `em`'s transaction; returns it sealed by
 * `sealer` for purpose "<purpose>:<userId>" (for the event) and when it expires.
 */
export async function issueEmailToken(
  em: EntityManager,
  sealer: Sealer,
  userId: string,
  purpose: EmailTokenPurpose,
  ttlSeconds: number,
): Promise<{ sealedToken: string; expiresAt: Date }> {
  const token = randomToken();
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  await tables(em).insertInto("email_tokens").values({ token_hash: tokenHash(token), user_id: userId, purpose, expires_at: expiresAt }).execute();
  return { sealedToken: await sealer.seal(token, `${purpose}:${userId}`), expiresAt };
}

/** Marks an unused, unexpired token of `purpose` used, in one statement (of two concurrent claims, one wins); its user, if claimed. */
export async function claimEmailToken(em: EntityManager, token: string, purpose: EmailTokenPurpose): Promise<string | undefined> {
  const claimed = await tables(em)
    .updateTable("email_tokens")
    .set({ used_at: sql<Date>`now()` })
    .where("token_hash", "=", tokenHash(token))
    .where("purpose", "=", purpose)
    .where("used_at", "is", null)
    .where("expires_at", ">", sql<Date>`now()`)
    .returning("user_id")
    .executeTakeFirst();
  return claimed?.user_id;
}
