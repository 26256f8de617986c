// Secrets that must cross the event bus (a verification or password-reset token on its way from identity
// to the notification service) travel sealed: encrypted to the receiving service's public key (JWE,
// ECDH-ES+A256KW on X25519, A256GCM). NATS, the stream's days of history and the sender's outbox then
// hold only ciphertext that the holder of the private key alone can open. Each sealed secret names what
// it is for (`purpose`), so one cannot be passed off as another.
import { CompactEncrypt, compactDecrypt, importJWK, type JWK } from "jose";
import { z } from "zod";

const ALG = "ECDH-ES+A256KW";
const ENC = "A256GCM";

/**
 * The local-development key pair (committed, so worthless anywhere else): identity seals to the public
 * half by default in development, the notification service opens with the private half. Production
 * requires a pair of its own (see scripts in the services' READMEs).
 */
export const DEVELOPMENT_SEALING_PUBLIC_KEY = '{"kty":"OKP","crv":"X25519","x":"_KBvY4lGq4N5lsGbkW-5jFtlqlPcxt89EPHAEZLwSBU"}';
export const DEVELOPMENT_SEALING_PRIVATE_KEY = '{"kty":"OKP","crv":"X25519","x":"_KBvY4lGq4N5lsGbkW-5jFtlqlPcxt89EPHAEZLwSBU","d":"6GwTOwJJY85uQu1dOsWQ4kkna987efF4rdRvM_DkR3s"}';

const parseJwk = (text: string): JWK | undefined => {
  try {
    const jwk = JSON.parse(text) as JWK;
    return jwk && jwk.kty === "OKP" && jwk.crv === "X25519" && typeof jwk.x === "string" ? jwk : undefined;
  } catch {
    return undefined;
  }
};

/** A config variable holding an X25519 public JWK as JSON (the `d` member absent). */
export const sealingPublicKeySchema = z
  .string()
  .refine((text) => parseJwk(text) !== undefined && parseJwk(text)!.d === undefined, 'must be an X25519 public JWK as JSON: {"kty":"OKP","crv":"X25519","x":"…"}');

/** A config variable holding an X25519 private JWK as JSON (with `d`). */
export const sealingPrivateKeySchema = z
  .string()
  .refine((text) => typeof parseJwk(text)?.d === "string", 'must be an X25519 private JWK as JSON: {"kty":"OKP","crv":"X25519","x":"…","d":"…"}');

export interface Sealer {
  /** `secret` encrypted to the key's owner, bound to `purpose` (e.g. "verify_email:<user id>"). */
  seal(secret: string, purpose: string): Promise<string>;
}

export interface Opener {
  /** The secret inside `sealed`; throws when it was not sealed to this key or not for `purpose`. */
  open(sealed: string, purpose: string): Promise<string>;
}

/** Seals to the owner of `publicKeyJson` (an X25519 JWK). */
export async function createSealer(publicKeyJson: string): Promise<Sealer> {
  const jwk = parseJwk(publicKeyJson);
  if (!jwk) throw new TypeError("createSealer: not an X25519 JWK");
  const { d: _private, ...publicJwk } = jwk;
  const key = await importJWK(publicJwk, ALG);
  return {
    seal: (secret, purpose) => new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ secret, purpose }))).setProtectedHeader({ alg: ALG, enc: ENC }).encrypt(key),
  };
}

/** Opens what was sealed to `privateKeyJson`'s public half. */
export async function createOpener(privateKeyJson: string): Promise<Opener> {
  const jwk = parseJwk(privateKeyJson);
  if (!jwk?.d) throw new TypeError("createOpener: not an X25519 private JWK");
  const key = await importJWK(jwk, ALG);
  return {
    async open(sealed, purpose) {
      const { plaintext } = await compactDecrypt(sealed, key, { keyManagementAlgorithms: [ALG], contentEncryptionAlgorithms: [ENC] });
      const content = JSON.parse(new TextDecoder().decode(plaintext)) as { secret?: unknown; purpose?: unknown };
      if (content.purpose !== purpose || typeof content.secret !== "string") throw new Error(`sealed secret is not for ${purpose}`);
      return content.secret;
    },
  };
}
