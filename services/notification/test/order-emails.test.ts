// Order, payment and inventory events as messages, published on the real streams the way the order
// and inventory services publish them: each arrives in Mailpit with its recipient, subject, links and
// both parts; SMS goes through the recording provider, for those who opted in.
import test from "ava";
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { LowStockSchema } from "@bazaar/contracts/bazaar/inventory/v1/events_pb";
import { OrderCancelledSchema, OrderPlacedSchema, OrderRefundedSchema, OrderRejectedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { ShipmentDeliveredSchema, ShipmentShippedSchema } from "@bazaar/contracts/bazaar/shipping/v1/events_pb";
import { NotificationChannel, NotificationStatus, NotificationTopic } from "@bazaar/contracts/bazaar/notification/v1/notification_pb";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { perFile, publishEvent } from "@bazaar/platform/testing";
import { eventually, hrefsIn, newEmail, signUp, startIdentityService, startNotificationService, STOREFRONT } from "./helpers.ts";
import { startMailpit } from "./mailpit.ts";

const STAFF = "staff-alerts@bazaar.test";

const stack = perFile(test, async (teardown) => {
  const mailpit = await startMailpit();
  teardown(() => mailpit.stop());
  const identity = await startIdentityService();
  teardown(() => identity.stop());
  const notification = await startNotificationService({ mailpit, verifier: identity.verifier, env: { NOTIFICATION_STAFF_EMAIL: STAFF } });
  teardown(() => notification.stop());
  const admin = await signUp(identity, mailpit, { admin: true });
  return { mailpit, identity, notification, admin };
});

const eur = (amountMinor: bigint) => ({ amountMinor, currencyCode: "EUR" });

function orderPlaced(email: string, userId = "", phone = "") {
  return create(OrderPlacedSchema, {
    eventId: randomUUID(),
    orderId: randomUUID(),
    userId,
    email,
    cartId: randomUUID(),
    lines: [
      { sku: "SHIRT-LINEN-M", productId: randomUUID(), quantity: 2, unitPrice: eur(3990n), productName: "Linen shirt" },
      { sku: "TOTE-CANVAS", productId: randomUUID(), quantity: 1, unitPrice: eur(1500n), productName: "Canvas tote" },
    ],
    subtotal: eur(9480n),
    discount: eur(0n),
    shipping: eur(490n),
    tax: eur(0n),
    total: eur(9970n),
    shippingAddress: { recipientName: "Ada Lovelace", line1: "Hauptstraße 1", city: "Berlin", postalCode: "10115", countryCode: "DE", phone },
  });
}

test("a guest's order confirmation lists the lines, the totals and the address, in both parts, with a link to the order", async (t) => {
  const { mailpit } = stack();
  const email = newEmail("guest");
  const event = orderPlaced(email);
  await publishEvent(OrderPlacedSchema, event);
  const [mail] = await mailpit.waitFor(email);
  t.is(mail!.Subject, "Your Bazaar order is confirmed (€99.70)");
  for (const part of [mail!.Text, mail!.HTML]) {
    t.true(part.includes("Linen shirt") && part.includes("Canvas tote"), "the lines");
    t.true(part.includes("€79.80") && part.includes("€94.80") && part.includes("€4.90") && part.includes("€99.70"), "line total, subtotal, shipping, total");
    t.true(part.includes("Hauptstraße 1") && part.includes("10115 Berlin"), "the address");
  }
  t.true(mail!.Text.includes(`${STOREFRONT}/orders/${event.orderId}`));
  t.true(hrefsIn(mail!.HTML).includes(`${STOREFRONT}/orders/${event.orderId}`));
  t.is((await mailpit.headers(mail!.ID))["List-Unsubscribe"], undefined, "order mail is transactional");
});

test("a signed-in buyer who chose German and SMS gets the confirmation in German and an SMS through the provider port", async (t) => {
  const { mailpit, identity, notification, admin } = stack();
  const buyer = await signUp(identity, mailpit);
  const client = notification.client(buyer.accessToken);
  await client.updateMyPreferences({ locale: "de", preferences: [{ topic: NotificationTopic.ORDERS, channel: NotificationChannel.SMS, enabled: true }] });
  const phone = `+4915${Math.floor(Math.random() * 1e9).toString().padStart(9, "0")}`;
  const event = orderPlaced(buyer.email, buyer.userId, phone);
  await publishEvent(OrderPlacedSchema, event);

  const mails = await mailpit.waitFor(buyer.email, 2);
  const confirmation = mails.find((mail) => mail.Subject.startsWith("Ihre Bazaar-Bestellung ist bestätigt"));
  t.truthy(confirmation, "German subject");
  t.true(confirmation!.Text.includes("Lieferung an:"));
  const sms = await eventually("the recorded SMS", async () =>
    (await notification.client(admin.accessToken).listProviderMessages({ pageSize: 100 })).messages.find((m) => m.recipient === phone),
  );
  t.is(sms.channel, NotificationChannel.SMS);
  t.true(sms.body.includes(event.orderId) && sms.body.includes("99,70"));
});

test("an event read too late (older than NOTIFICATION_MAX_EVENT_AGE_HOURS) is recorded expired and sends nothing", async (t) => {
  const { mailpit, notification, admin } = stack();
  const email = newEmail("late");
  const late = orderPlaced(email);
  late.occurredAt = timestampFromDate(new Date(Date.now() - 25 * 3600_000));
  await publishEvent(OrderPlacedSchema, late);
  const marker = orderPlaced(newEmail("on-time"));
  await publishEvent(OrderPlacedSchema, marker);
  await mailpit.waitFor(marker.email, 1); // handled in stream order: the late one was handled before
  const logged = await eventually("the expired message in the staff log", async () =>
    (await notification.client(admin.accessToken).listNotifications({ status: NotificationStatus.EXPIRED, pageSize: 100 })).notifications.find((n) => n.recipient === email),
  );
  t.is(logged.template, "order-confirmation");
  t.is((await mailpit.to(email)).length, 0);
});

test("an order placed without an email queues nothing and does not hold up the events after it", async (t) => {
  const { mailpit, notification, admin } = stack();
  const nobody = orderPlaced("");
  await publishEvent(OrderPlacedSchema, nobody);
  const marker = orderPlaced(newEmail("after-nobody"));
  await publishEvent(OrderPlacedSchema, marker);
  await mailpit.waitFor(marker.email, 1); // handled in stream order: the one without an email came first
  const logged = await notification.client(admin.accessToken).listNotifications({ pageSize: 100 });
  t.true(logged.notifications.some((n) => n.recipient === marker.email));
  t.false(logged.notifications.some((n) => n.recipient === ""));
  // Handled, not failing on its way to the dead letters: its id is in the consumer's inbox.
  const applied = await eventually("the event without an email in the inbox", async () => (await notification.sql("select 1 from platform_inbox where event_id = $1", [nobody.eventId]))[0]);
  t.truthy(applied);
});

test("cancellation, refund, failed payment and the staff low-stock alert each arrive with their subject and link", async (t) => {
  const { mailpit } = stack();
  const email = newEmail("after");
  const placed = orderPlaced(email);
  await publishEvent(OrderPlacedSchema, placed);
  await mailpit.waitFor(email, 1);
  await publishEvent(OrderRefundedSchema, create(OrderRefundedSchema, { eventId: randomUUID(), orderId: placed.orderId, amount: eur(1500n), totalRefunded: eur(1500n), full: false }));
  await publishEvent(OrderCancelledSchema, create(OrderCancelledSchema, { eventId: randomUUID(), orderId: placed.orderId, email, actor: "customer", reason: "changed my mind" }));
  const rejectedEmail = newEmail("declined");
  const rejected = create(OrderRejectedSchema, { eventId: randomUUID(), orderId: randomUUID(), email: rejectedEmail, reason: "PAYMENT_DECLINED" });
  await publishEvent(OrderRejectedSchema, rejected);
  const sku = `LOW-${randomUUID().slice(0, 8).toUpperCase()}`;
  await publishEvent(LowStockSchema, create(LowStockSchema, { eventId: randomUUID(), sku, available: 2n, threshold: 5n }));

  const mails = await mailpit.waitFor(email, 3);
  const refund = mails.find((mail) => mail.Subject === "A refund of €15.00 is on its way");
  t.truthy(refund, "the refund found its recipient from the confirmation");
  t.true(refund!.Text.includes("refunded so far: €15.00") && refund!.Text.includes(`${STOREFRONT}/orders/${placed.orderId}`));
  const cancelled = mails.find((mail) => mail.Subject === "Your Bazaar order was cancelled");
  t.true(cancelled!.Text.includes("As you asked, we cancelled your order"));
  t.true(hrefsIn(cancelled!.HTML).includes(`${STOREFRONT}/orders/${placed.orderId}`));

  const [declined] = await mailpit.waitFor(rejectedEmail);
  t.is(declined!.Subject, "Your payment did not go through");
  t.true(declined!.Text.includes("the card was declined") && declined!.Text.includes(`${STOREFRONT}/cart`));

  const alerts = await eventually("the staff alert", async () => (await mailpit.waitFor(STAFF, 1)).find((mail) => mail.Subject === `Low stock: ${sku} (2 left)`));
  t.true(alerts.Text.includes(`${STOREFRONT}/admin/stock/${sku}`));
});

test("a shipped parcel tells the buyer the carrier and tracking link; a delivered one says so; both once under redelivery", async (t) => {
  const { mailpit } = stack();
  const email = newEmail("parcel");
  const placed = orderPlaced(email);
  await publishEvent(OrderPlacedSchema, placed);
  await mailpit.waitFor(email, 1);
  const shipped = create(ShipmentShippedSchema, {
    eventId: randomUUID(),
    shipmentId: randomUUID(),
    orderId: placed.orderId,
    carrier: "Bazaar Test Carrier",
    trackingNumber: "BZ000111222",
    trackingUrl: "https://track.example.com/BZ000111222",
    orderFullyShipped: true,
  });
  await publishEvent(ShipmentShippedSchema, shipped);
  await publishEvent(ShipmentShippedSchema, shipped); // redelivered: still one message
  await publishEvent(ShipmentDeliveredSchema, create(ShipmentDeliveredSchema, { eventId: randomUUID(), shipmentId: shipped.shipmentId, orderId: placed.orderId, orderFullyDelivered: true }));

  const mails = await mailpit.waitFor(email, 3);
  const onItsWay = mails.filter((mail) => mail.Subject === "Your Bazaar order is on its way");
  t.is(onItsWay.length, 1);
  t.true(onItsWay[0]!.Text.includes("Bazaar Test Carrier carries it, tracking number BZ000111222"));
  t.true(hrefsIn(onItsWay[0]!.HTML).includes("https://track.example.com/BZ000111222"));
  const delivered = mails.find((mail) => mail.Subject === "Your Bazaar parcel was delivered");
  t.true(delivered!.Text.includes(`Everything in your order ${placed.orderId} has been delivered`));
  t.true(delivered!.Text.includes(`${STOREFRONT}/orders/${placed.orderId}`));
  t.is((await mailpit.to(email)).length, 3, "confirmation, shipped, delivered: nothing twice");
});
