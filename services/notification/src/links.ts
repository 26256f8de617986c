// Links in messages: storefront pages, and signed, expiring unsubscribe links that work without signing
// in (HMAC-SHA256 over who, what and until when; no state kept until used).
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Channel, UserTopic } from "./topics.ts";

export interface UnsubscribeClaim {
  userId: string;
  topic: UserTopic;
  channel: Channel;
  /** Seconds since the epoch after which the link no longer works. */
  expiresAt: number;
}

export interface Links {
  storefront(path: string): string;
  /** The storefront's unsubscribe page for `claim`'s topic and channel (a signed token in its query). */
  unsubscribeUrl(userId: string, topic: UserTopic, channel: Channel): string;
  unsubscribeToken(userId: string, topic: UserTopic, channel: Channel): string;
  /** The List-Unsubscribe URL for `token`: where mail clients POST a one-click unsubscribe (RFC 8058). */
  oneClickUrl(token: string): string;
  /** The claim in `token`, or undefined when it is forged, malformed or expired. */
  readUnsubscribeToken(token: string, now?: Date): UnsubscribeClaim | undefined;
}

export function createLinks(options: { storefrontUrl: string; secret: string; unsubscribeTtlDays: number; oneClickUrl?: string | undefined }): Links {
  const oneClickBase = options.oneClickUrl ?? `${options.storefrontUrl}/unsubscribe/one-click`;
  const sign = (payload: string) => createHmac("sha256", options.secret).update(`unsubscribe.${payload}`).digest("base64url");
  const links: Links = {
    storefront: (path) => `${options.storefrontUrl}${path.startsWith("/") ? path : `/${path}`}`,
    unsubscribeToken(userId, topic, channel) {
      const expiresAt = Math.floor(Date.now() / 1000) + options.unsubscribeTtlDays * 86_400;
      const payload = Buffer.from(JSON.stringify({ u: userId, t: topic, c: channel, e: expiresAt })).toString("base64url");
      return `${payload}.${sign(payload)}`;
    },
    unsubscribeUrl: (userId, topic, channel) => links.storefront(`/unsubscribe?token=${links.unsubscribeToken(userId, topic, channel)}`),
    oneClickUrl: (token) => `${oneClickBase}?token=${token}`,
    readUnsubscribeToken(token, now = new Date()) {
      const [payload, signature, extra] = token.split(".");
      if (!payload || !signature || extra !== undefined) return undefined;
      const expected = Buffer.from(sign(payload));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
      try {
        const claim = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { u: string; t: UserTopic; c: Channel; e: number };
        if (typeof claim.e !== "number" || claim.e * 1000 < now.getTime()) return undefined;
        return { userId: claim.u, topic: claim.t, channel: claim.c, expiresAt: claim.e };
      } catch {
        return undefined;
      }
    },
  };
  return links;
}
