// Preferences per topic and channel, the unsubscribe link (signed, expiring, no sign-in), staff
// previews and the delivery log, over gRPC against the running service.
import test from "ava";
import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { NotificationChannel, NotificationStatus, NotificationTopic } from "@bazaar/contracts/bazaar/notification/v1/notification_pb";
import { perFile } from "@bazaar/platform/testing";
import { createLinks } from "../src/links.ts";
import { createMessageQueue } from "../src/messages.ts";
import { loadTemplates } from "../src/templates.ts";
import { eventually, failure, hrefsIn, signUp, startIdentityService, startNotificationService, STOREFRONT } from "./helpers.ts";
import { startMailpit } from "./mailpit.ts";

const LINK_SECRET = "a-test-secret-for-unsubscribe-links-0123456789";

const stack = perFile(test, async (teardown) => {
  const mailpit = await startMailpit();
  teardown(() => mailpit.stop());
  const identity = await startIdentityService();
  teardown(() => identity.stop());
  const notification = await startNotificationService({ mailpit, verifier: identity.verifier, env: { NOTIFICATION_LINK_SECRET: LINK_SECRET } });
  teardown(() => notification.stop());
  const admin = await signUp(identity, mailpit, { admin: true });
  // Marketing has no producer yet: its messages are queued here the way an event handler queues them,
  // in the running service's database, and sent by its sender.
  const links = createLinks({ storefrontUrl: STOREFRONT, secret: LINK_SECRET, unsubscribeTtlDays: 60 });
  const queue = createMessageQueue({ templates: await loadTemplates(), links });
  const database = notification.service.runtime.database;
  const queueMarketing = (userId: string, email: string) =>
    database.transaction((em) =>
      queue.enqueue(em, { eventId: randomUUID(), userId, channel: "email", recipient: email, template: "security-notice", topic: "marketing", locale: "en", data: { displayName: "You", change: "mfa_enabled", occurredAt: new Date().toISOString(), accountUrl: `${STOREFRONT}/account` } }),
    );
  return { mailpit, identity, notification, admin, links, queueMarketing };
});

const choice = (topic: NotificationTopic, channel: NotificationChannel, enabled: boolean) => ({ topic, channel, enabled });

test("defaults: account security and order email on and unchangeable, shipping on, marketing and SMS off until chosen", async (t) => {
  const { mailpit, identity, notification } = stack();
  const user = await signUp(identity, mailpit);
  const { preferences, locale } = await notification.client(user.accessToken).getMyPreferences({});
  t.is(locale, "en");
  const find = (topic: NotificationTopic, channel: NotificationChannel) => preferences.find((p) => p.topic === topic && p.channel === channel)!;
  t.like(find(NotificationTopic.ACCOUNT_SECURITY, NotificationChannel.EMAIL), { enabled: true, changeable: false });
  t.like(find(NotificationTopic.ORDERS, NotificationChannel.EMAIL), { enabled: true, changeable: false });
  t.like(find(NotificationTopic.SHIPPING, NotificationChannel.EMAIL), { enabled: true, changeable: true });
  t.like(find(NotificationTopic.MARKETING, NotificationChannel.EMAIL), { enabled: false, changeable: true });
  t.like(find(NotificationTopic.ORDERS, NotificationChannel.SMS), { enabled: false, changeable: true });
  t.is(preferences.length, 12);
});

test("security and order email cannot be turned off; every bad field is reported at once and nothing changes", async (t) => {
  const { mailpit, identity, notification } = stack();
  const user = await signUp(identity, mailpit);
  const client = notification.client(user.accessToken);
  const bad = await failure(
    client.updateMyPreferences({
      locale: "fr",
      preferences: [
        choice(NotificationTopic.MARKETING, NotificationChannel.EMAIL, true),
        choice(NotificationTopic.ACCOUNT_SECURITY, NotificationChannel.EMAIL, false),
        choice(NotificationTopic.ORDERS, NotificationChannel.EMAIL, false),
        choice(NotificationTopic.UNSPECIFIED, NotificationChannel.EMAIL, true),
      ],
    }),
  );
  t.is(bad.code, Code.InvalidArgument);
  t.deepEqual(bad.fields.sort(), ["locale", "preferences[1].enabled", "preferences[2].enabled", "preferences[3].topic"]);
  const after = await client.getMyPreferences({});
  t.false(after.preferences.find((p) => p.topic === NotificationTopic.MARKETING && p.channel === NotificationChannel.EMAIL)!.enabled, "the valid change was not applied either");
  t.is((await failure(notification.client().getMyPreferences({}))).code, Code.Unauthenticated);
});

test("marketing is suppressed until opted in; then it carries List-Unsubscribe (one-click), and its link turns it off without signing in", async (t) => {
  const { mailpit, identity, notification, queueMarketing } = stack();
  const user = await signUp(identity, mailpit);
  const client = notification.client(user.accessToken);
  await queueMarketing(user.userId, user.email);
  const suppressed = await eventually("the suppressed message in the log", async () =>
    (await client.listMyNotifications({})).notifications.find((n) => n.status === NotificationStatus.SUPPRESSED),
  );
  t.is(suppressed.recipient, user.email);

  await client.updateMyPreferences({ preferences: [choice(NotificationTopic.MARKETING, NotificationChannel.EMAIL, true)] });
  await queueMarketing(user.userId, user.email);
  const mails = await mailpit.waitFor(user.email, 2); // verification + this one
  const marketing = mails.find((mail) => mail.Subject === "Two-step sign-in was turned on")!;
  const headers = await mailpit.headers(marketing.ID);
  t.is(headers["List-Unsubscribe-Post"]?.[0], "List-Unsubscribe=One-Click");
  const oneClickUrl = /^<(.+)>$/.exec(headers["List-Unsubscribe"]?.[0] ?? "")?.[1] ?? "";
  t.true(oneClickUrl.startsWith(`${STOREFRONT}/unsubscribe/one-click?token=`));
  const token = new URL(oneClickUrl).searchParams.get("token")!;
  const pageUrl = `${STOREFRONT}/unsubscribe?token=${token}`;
  t.true(hrefsIn(marketing.HTML).includes(pageUrl), "the footer links the storefront's page with the same token");
  t.true(marketing.Text.includes(pageUrl));

  const anonymous = notification.client();
  const done = await anonymous.unsubscribe({ token });
  t.is(done.topic, NotificationTopic.MARKETING);
  t.is(done.channel, NotificationChannel.EMAIL);
  t.false((await client.getMyPreferences({})).preferences.find((p) => p.topic === NotificationTopic.MARKETING && p.channel === NotificationChannel.EMAIL)!.enabled, "off at once");
  await queueMarketing(user.userId, user.email);
  await eventually("the next one suppressed", async () => (await client.listMyNotifications({})).notifications.filter((n) => n.status === NotificationStatus.SUPPRESSED).length === 2);
  t.is((await mailpit.to(user.email)).length, 2, "nothing more was sent");

  const forged = `${token.split(".")[0]}.${"A".repeat(43)}`;
  t.is((await failure(anonymous.unsubscribe({ token: forged }))).code, Code.Unauthenticated);
  const expired = createLinks({ storefrontUrl: STOREFRONT, secret: LINK_SECRET, unsubscribeTtlDays: 1 }).readUnsubscribeToken(token, new Date(Date.now() + 61 * 86_400_000));
  t.is(expired, undefined, "the link expires");
});

test("a mail client's one-click POST (RFC 8058) to the List-Unsubscribe URL unsubscribes without signing in", async (t) => {
  const { mailpit, identity, notification, links } = stack();
  const user = await signUp(identity, mailpit);
  const client = notification.client(user.accessToken);
  await client.updateMyPreferences({ preferences: [choice(NotificationTopic.SHIPPING, NotificationChannel.EMAIL, true)] });
  const token = links.unsubscribeToken(user.userId, "shipping", "email");
  // The path the List-Unsubscribe URL's POST is routed to, on the service itself.
  const post = (query: string, body: string) =>
    fetch(`http://${notification.service.address}/unsubscribe/one-click?${query}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
  t.is((await post(`token=${token}`, "something=else")).status, 400, "only the one-click form");
  t.is((await post(`token=${token.slice(0, -2)}xx`, "List-Unsubscribe=One-Click")).status, 403, "a tampered token");
  const shippingEmail = async () => (await client.getMyPreferences({})).preferences.find((p) => p.topic === NotificationTopic.SHIPPING && p.channel === NotificationChannel.EMAIL)!.enabled;
  t.true(await shippingEmail());
  t.is((await post(`token=${token}`, "List-Unsubscribe=One-Click")).status, 200);
  t.false(await shippingEmail(), "off at once");
  t.is((await post(`token=${token}`, "List-Unsubscribe=One-Click")).status, 200, "repeating it is harmless");
});

test("a user who chose German gets identity's emails in German", async (t) => {
  const { mailpit, identity, notification } = stack();
  const user = await signUp(identity, mailpit);
  await notification.client(user.accessToken).updateMyPreferences({ locale: "de" });
  await identity.client().requestPasswordReset({ email: user.email });
  const mails = await mailpit.waitFor(user.email, 2);
  const reset = mails.find((mail) => mail.Subject === "Setzen Sie Ihr Bazaar-Passwort zurück");
  t.truthy(reset);
  t.true(reset!.Text.startsWith("Hallo Test Shopper,") && reset!.Text.includes(`${STOREFRONT}/reset-password?token=`));
});

test("the delivery log: users see only their own; staff see all with status and the provider's message id", async (t) => {
  const { mailpit, identity, notification, admin } = stack();
  const user = await signUp(identity, mailpit);
  const other = await signUp(identity, mailpit);
  const own = await eventually("the user's verification in the log", async () => {
    const list = (await notification.client(user.accessToken).listMyNotifications({})).notifications;
    return list.length > 0 && list.every((n) => n.status === NotificationStatus.SENT) ? list : undefined;
  });
  t.true(own.every((n) => n.userId === user.userId && n.recipient === user.email));
  t.true(own.some((n) => n.template === "email-verification" && /^<.+@bazaar\.localhost>$/.test(n.providerMessageId)));

  const staffView = notification.client(admin.accessToken);
  const sent = await staffView.listNotifications({ status: NotificationStatus.SENT, pageSize: 100 });
  t.true(sent.notifications.some((n) => n.userId === other.userId), "staff see other users' messages");
  t.true(sent.notifications.every((n) => n.status === NotificationStatus.SENT && n.providerMessageId !== ""));
  const firstPage = await staffView.listNotifications({ pageSize: 1 });
  t.is(firstPage.notifications.length, 1);
  const secondPage = await staffView.listNotifications({ pageSize: 1, pageToken: firstPage.nextPageToken });
  t.not(secondPage.notifications[0]!.id, firstPage.notifications[0]!.id);
  t.is((await failure(notification.client(user.accessToken).listNotifications({}))).code, Code.PermissionDenied);
});

test("staff preview any template in a language with its sample data or their own; others may not", async (t) => {
  const { mailpit, identity, notification, admin } = stack();
  const staff = notification.client(admin.accessToken);
  const { templates } = await staff.listTemplates({});
  t.deepEqual(templates.find((tpl) => tpl.name === "order-confirmation")?.locales, ["en", "de"]);
  const german = await staff.previewTemplate({ template: "order-confirmation", locale: "de" });
  t.is(german.locale, "de");
  t.true(german.subject.startsWith("Ihre Bazaar-Bestellung") && german.html.includes("Linen shirt") && german.text.includes("Gesamt"));
  const fallback = await staff.previewTemplate({ template: "low-stock", locale: "de", dataJson: JSON.stringify({ sku: "MUG-1", available: 1 }) });
  t.is(fallback.locale, "en");
  t.is(fallback.subject, "Low stock: MUG-1 (1 left)");
  t.is((await failure(staff.previewTemplate({ template: "no-such-template" }))).code, Code.NotFound);
  t.deepEqual((await failure(staff.previewTemplate({ template: "low-stock", dataJson: "[1]" }))).fields, ["data_json"]);
  const user = await signUp(identity, mailpit);
  t.is((await failure(notification.client(user.accessToken).previewTemplate({ template: "low-stock" }))).code, Code.PermissionDenied);
});
