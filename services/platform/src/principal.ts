/** Who is calling, as proven by a verified bearer token. */
export interface Principal {
  /** The user's id (`sub`), or the calling service's name for service tokens. */
  subject: string;
  roles: readonly string[];
  /** A person signed in, or a service acting on its own behalf (event handlers, saga steps). */
  kind: "user" | "service";
  /** The verified token, forwarded when this call makes further calls on the same behalf. */
  token: string;
  /** The token's `iat`, in seconds since the epoch (tokens issued before a user was disabled are refused). */
  issuedAt?: number;
  /** The issue time in milliseconds since the epoch, from the token's UUIDv7 `jti` (else the start of the `iat` second). */
  issuedAtMs?: number;
}
