// SMTP down: messages wait and are retried with backoff; when the server returns every one is delivered
// exactly once. A message that never gets through is failed after the configured attempts, with its
// last error, and listed for staff.
import test from "ava";
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { NotificationStatus } from "@bazaar/contracts/bazaar/notification/v1/notification_pb";
import { publishEvent } from "@bazaar/platform/testing";
import { eventually, newEmail, signUp, startIdentityService, startNotificationService } from "./helpers.ts";
import { startMailpit } from "./mailpit.ts";

const eur = (amountMinor: bigint) => ({ amountMinor, currencyCode: "EUR" });
const placed = (email: string) =>
  create(OrderPlacedSchema, {
    eventId: randomUUID(),
    orderId: randomUUID(),
    email,
    lines: [{ sku: "MUG-1", productId: randomUUID(), quantity: 1, unitPrice: eur(1200n), productName: "Mug" }],
    subtotal: eur(1200n),
    shipping: eur(0n),
    tax: eur(0n),
    discount: eur(0n),
    total: eur(1200n),
    shippingAddress: { recipientName: "A", line1: "B 1", city: "C", postalCode: "1000", countryCode: "DE" },
  });

test("with SMTP down, 20 order confirmations wait and retry; when it returns exactly 20 arrive", async (t) => {
  const mailpit = await startMailpit();
  t.teardown(() => mailpit.stop());
  const identity = await startIdentityService();
  t.teardown(() => identity.stop());
  const notification = await startNotificationService({ mailpit, verifier: identity.verifier });
  t.teardown(() => notification.stop());

  await mailpit.stopServer();
  const email = newEmail("outage");
  const events = Array.from({ length: 20 }, () => placed(email));
  for (const event of events) await publishEvent(OrderPlacedSchema, event);
  // Every one was tried, failed and is waiting for its next attempt.
  await eventually(
    "20 messages retrying",
    async () => {
      const [row] = await notification.sql<{ n: string }>(
        "select count(*) as n from message where recipient = $1 and status = 'queued' and attempts >= 2 and last_error <> ''",
        [email],
      );
      return Number(row!.n) === 20;
    },
    30_000,
  );

  await mailpit.startServer();
  await mailpit.waitFor(email, 20);
  await eventually("all 20 recorded as sent", async () => {
    const [row] = await notification.sql<{ n: string }>("select count(*) as n from message where recipient = $1 and status = 'sent'", [email]);
    return Number(row!.n) === 20;
  });
  t.is((await mailpit.to(email)).length, 20, "each exactly once");
  const messageIds = new Set((await mailpit.waitFor(email, 20)).map((mail) => mail.MessageID));
  t.is(messageIds.size, 20, "20 distinct messages");
});

test("a message that never gets through is failed after the configured attempts and shown to staff with its error", async (t) => {
  const mailpit = await startMailpit();
  t.teardown(() => mailpit.stop());
  const identity = await startIdentityService();
  t.teardown(() => identity.stop());
  // Staff sign in while mail works; then SMTP goes away for good.
  const live = await startNotificationService({ mailpit, verifier: identity.verifier });
  const admin = await signUp(identity, mailpit, { admin: true });
  await live.stop();
  const notification = await startNotificationService({ mailpit, verifier: identity.verifier, env: { NOTIFICATION_MAX_ATTEMPTS: "3", SMTP_URL: "smtp://127.0.0.1:9" } });
  t.teardown(() => notification.stop());

  const email = newEmail("never");
  await publishEvent(OrderPlacedSchema, placed(email));
  const failed = await eventually("the message to fail", async () =>
    (await notification.client(admin.accessToken).listNotifications({ status: NotificationStatus.FAILED, pageSize: 100 })).notifications.find((n) => n.recipient === email),
  );
  t.is(failed.attempts, 3);
  t.regex(failed.lastError, /ECONNREFUSED/);
  t.is(failed.providerMessageId, "");
});
