// A browser's refresh token never reaches its page: when a call asks for the cookie session (header
// `x-bazaar-session: cookie`), the edge takes the refresh token out of Login, CompleteMfaLogin and
// RefreshToken answers and keeps it in an httpOnly cookie scoped to identity's paths, reads it back for
// RefreshToken and Logout, and clears it at sign-out (or when identity refuses it). Other callers
// (curl, the typed client in Node, services) see the contract unchanged.
//
// CSRF-safe by construction: the cookie is SameSite=Strict (no other site's page or form can make the
// browser send it), and only calls with the custom header use it — a header no cross-site form can
// set, and that the edge's CORS never allows (so another origin's fetch fails its preflight); Connect's
// POSTs need `content-type: application/json` or `application/proto`, not a form's type, besides.
// Strict rather than Lax: the cookie is only ever read by the shop's own fetches, never by a
// navigation, so nothing needs it to travel with a link followed from another site.
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { create } from "@bufbuild/protobuf";
import { IdentityService, LogoutResponseSchema } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";

/** The request header that asks for the cookie session (the storefront's client sends it). */
export const SESSION_MODE_HEADER = "x-bazaar-session";
/** httpOnly: the refresh token itself, sent only to identity's paths. */
export const REFRESH_COOKIE = "bazaar_refresh";
/** Readable by the page, holds no secret: tells it a session cookie exists, so it refreshes at load. */
export const SIGNED_IN_COOKIE = "bazaar_signed_in";

const identityPath = "/bazaar.identity.v1.IdentityService/";
const cookieMethods = new Set(["Login", "CompleteMfaLogin", "RefreshToken", "Logout"]);

interface TokenPairLike {
  refreshToken: string;
  refreshTokenExpireTime?: Timestamp;
}
type Unary<Response> = (request: never, context: HandlerContext) => Promise<Response>;

/** Whether a method takes part in the cookie session (identity's sign-in, refresh and sign-out). */
export const usesRefreshCookie = (serviceName: string, methodName: string) => serviceName === IdentityService.typeName && cookieMethods.has(methodName);

/** Wraps the forwarding handler of one of identity's cookie methods. */
export function withRefreshCookie<Response>(methodName: string, forward: Unary<Response>): Unary<Response> {
  return async (request, context) => {
    if (context.requestHeader.get(SESSION_MODE_HEADER) !== "cookie") return forward(request, context);
    const message = request as { refreshToken?: string };
    if (methodName === "RefreshToken" || methodName === "Logout") {
      message.refreshToken ||= readCookie(context.requestHeader.get("cookie"), REFRESH_COOKIE);
      if (!message.refreshToken) {
        // Signing out without a session: nothing to end, and nothing for identity to check.
        if (methodName === "Logout") {
          clearCookies(context);
          return create(LogoutResponseSchema) as Response;
        }
        throw new ConnectError("no session cookie: sign in", Code.Unauthenticated);
      }
    }
    let response: Response;
    try {
      response = await forward(request, context);
    } catch (error) {
      // A refused refresh token (rotated, revoked, expired) is of no further use: forget it.
      if (methodName === "RefreshToken" && error instanceof ConnectError && (error.code === Code.Unauthenticated || error.code === Code.PermissionDenied)) clearCookies(context);
      throw error;
    }
    if (methodName === "Logout") {
      clearCookies(context);
      return response;
    }
    const tokens = (response as { tokens?: TokenPairLike }).tokens;
    if (tokens?.refreshToken) {
      const expires = tokens.refreshTokenExpireTime ? timestampMs(tokens.refreshTokenExpireTime) : Date.now() + 86_400_000;
      setCookies(context, tokens.refreshToken, Math.max(0, Math.floor((expires - Date.now()) / 1000)));
      tokens.refreshToken = "";
    }
    return response;
  };
}

function setCookies(context: HandlerContext, refreshToken: string, maxAgeSeconds: number): void {
  const secure = isLoopback(context.requestHeader.get("host")) ? "" : "; Secure";
  context.responseHeader.append("set-cookie", `${REFRESH_COOKIE}=${refreshToken}; Path=${identityPath}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`);
  context.responseHeader.append("set-cookie", `${SIGNED_IN_COOKIE}=1; Path=/; Max-Age=${maxAgeSeconds}; SameSite=Strict${secure}`);
}

function clearCookies(context: HandlerContext): void {
  const secure = isLoopback(context.requestHeader.get("host")) ? "" : "; Secure";
  context.responseHeader.append("set-cookie", `${REFRESH_COOKIE}=; Path=${identityPath}; Max-Age=0; HttpOnly; SameSite=Strict${secure}`);
  context.responseHeader.append("set-cookie", `${SIGNED_IN_COOKIE}=; Path=/; Max-Age=0; SameSite=Strict${secure}`);
}

/** Secure everywhere but a developer's own machine, where the shop is plain http://localhost. */
function isLoopback(host: string | null): boolean {
  if (!host) return false;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]!;
  return name === "localhost" || name === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

export function readCookie(header: string | null, name: string): string {
  if (!header) return "";
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return "";
}
