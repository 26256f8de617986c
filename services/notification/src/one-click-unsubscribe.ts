// POST /unsubscribe/one-click?token=… with the body "List-Unsubscribe=One-Click": RFC 8058's one-click
// unsubscribe, which mail clients send to the List-Unsubscribe URL (NOTIFICATION_ONE_CLICK_URL) without
// the user signing in or seeing a page. An ingress routes that path here, as Stripe's webhook is routed
// to payment (deploy/overlays/prod). The footer's link opens the storefront's page instead, which calls
// the Unsubscribe RPC with the same token.
import type { Database, WebhookHandler } from "@bazaar/platform";
import type { Links } from "./links.ts";
import { unsubscribe } from "./preferences.ts";

export function oneClickUnsubscribe(options: { database: Database; links: Links }): WebhookHandler {
  return async ({ body, query }) => {
    const form = new URLSearchParams(body.toString("utf8"));
    if (form.get("List-Unsubscribe") !== "One-Click") return { status: 400, body: 'expected the form body "List-Unsubscribe=One-Click"\n' };
    const claim = await unsubscribe(options.database, options.links, query.get("token") ?? "");
    return claim ? { status: 200, body: "unsubscribed\n" } : { status: 403, body: "invalid or expired unsubscribe link\n" };
  };
}
