// Guest cart tokens: 32 random bytes (base64url) handed out once; only their SHA-256 is stored, and a
// presented token is compared against it in constant time.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const newCartToken = (): string => randomBytes(32).toString("base64url");

export const hashCartToken = (token: string): string => createHash("sha256").update(token).digest("hex");

/** Whether `token` is the one whose hash is `storedHash` (constant time in the token's content). */
export function cartTokenMatches(token: string, storedHash: string | null): boolean {
  if (token === "" || storedHash === null) return false;
  const presented = createHash("sha256").update(token).digest();
  const stored = Buffer.from(storedHash, "hex");
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
