// Returns' events as the shopper's emails, published on the real stream the way the returns service
// publishes them: acknowledgement, approval (with the return label's link), rejection (with staff's
// note), receipt and refund (its amount) each arrive once, in both parts, however often an event is
// delivered; the OrderRefunded that a return's refund causes sends nothing of its own.
import test from "ava";
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { OrderRefundedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import {
  ReturnApprovedSchema,
  ReturnReceivedSchema,
  ReturnRefundedSchema,
  ReturnRejectedSchema,
  ReturnRequestedSchema,
} from "@bazaar/contracts/bazaar/returns/v1/events_pb";
import { perFile, publishEvent } from "@bazaar/platform/testing";
import { eventually, hrefsIn, newEmail, startIdentityService, startNotificationService, STOREFRONT } from "./helpers.ts";
import { startMailpit } from "./mailpit.ts";

const stack = perFile(test, async (teardown) => {
  const mailpit = await startMailpit();
  teardown(() => mailpit.stop());
  const identity = await startIdentityService();
  teardown(() => identity.stop());
  const notification = await startNotificationService({ mailpit, verifier: identity.verifier });
  teardown(() => notification.stop());
  return { mailpit, notification };
});

const eur = (amountMinor: bigint) => ({ amountMinor, currencyCode: "EUR" });

test("each step of a return tells the shopper once: request, approval with the label link, receipt, refund with its amount; rejection with the note", async (t) => {
  const { mailpit, notification } = stack();
  const email = newEmail("returner");
  const who = { orderId: randomUUID(), returnId: randomUUID(), userId: "", email };
  const label = { carrier: "test", trackingNumber: "TEST000000000000000042", labelUrl: "https://carrier.test/labels/TEST000000000000000042.pdf", trackingUrl: "https://carrier.test/track/TEST000000000000000042" };
  const approved = create(ReturnApprovedSchema, { eventId: randomUUID(), ...who, ...label });
  const refundedOrder = create(OrderRefundedSchema, { eventId: randomUUID(), orderId: who.orderId, amount: eur(1234n), totalRefunded: eur(1234n), email, refundId: `return-${who.returnId}` });

  await publishEvent(ReturnRequestedSchema, create(ReturnRequestedSchema, { eventId: randomUUID(), ...who }));
  await publishEvent(ReturnApprovedSchema, approved);
  await publishEvent(ReturnApprovedSchema, approved, randomUUID()); // delivered again (a new message id past JetStream's dedupe): still one message
  await publishEvent(ReturnReceivedSchema, create(ReturnReceivedSchema, { eventId: randomUUID(), ...who, restockedUnits: 1 }));
  await publishEvent(OrderRefundedSchema, refundedOrder);
  await publishEvent(ReturnRefundedSchema, create(ReturnRefundedSchema, { eventId: randomUUID(), ...who, amount: eur(1234n) }));
  const rejected = { ...who, returnId: randomUUID() };
  await publishEvent(ReturnRejectedSchema, create(ReturnRejectedSchema, { eventId: randomUUID(), ...rejected, note: "The shoes were worn." }));

  const mails = await mailpit.waitFor(email, 5);
  const bySubject = (subject: string) => mails.filter((mail) => mail.Subject === subject);
  const orderUrl = `${STOREFRONT}/orders/${who.orderId}`;

  const [ack] = bySubject("We have your return request");
  t.true(ack!.Text.includes(`return ${who.returnId}`) && ack!.Text.includes(orderUrl));

  const ok = bySubject("Your Bazaar return is approved");
  t.is(ok.length, 1);
  t.true(ok[0]!.Text.includes(`its tracking number is ${label.trackingNumber}`));
  t.true(ok[0]!.Text.includes(`Print the return label: ${label.labelUrl}`));
  t.true(hrefsIn(ok[0]!.HTML).includes(label.labelUrl) && hrefsIn(ok[0]!.HTML).includes(label.trackingUrl));

  t.is(bySubject("Your returned goods arrived").length, 1);

  const [refund] = bySubject("Your return is refunded: €12.34");
  t.true(refund!.Text.includes(`We refunded €12.34 for your return ${who.returnId}`));
  t.true(hrefsIn(refund!.HTML).includes(orderUrl));

  const [no] = bySubject("Your Bazaar return was not accepted");
  t.true(no!.Text.includes(`We could not accept your return ${rejected.returnId} of order ${who.orderId}: The shoes were worn.`));

  // The return's OrderRefunded was handled (its inbox row) and made no message: one refund email.
  await eventually("the OrderRefunded event handled", async () =>
    (await notification.sql("select 1 from platform_inbox where event_id = $1", [refundedOrder.eventId])).length > 0 || undefined,
  );
  t.deepEqual(await notification.sql("select template from message where event_id = $1", [refundedOrder.eventId]), []);
  t.is((await mailpit.to(email)).length, 5, "request, approval, receipt, refund, rejection: nothing twice");
});

test("an approval without a label asks for the goods to be sent back, and has no label link", async (t) => {
  const { mailpit } = stack();
  const email = newEmail("nolabel");
  await publishEvent(ReturnApprovedSchema, create(ReturnApprovedSchema, { eventId: randomUUID(), orderId: randomUUID(), returnId: randomUUID(), email }));
  const [mail] = await mailpit.waitFor(email, 1);
  t.is(mail!.Subject, "Your Bazaar return is approved");
  t.true(mail!.Text.includes("Please send the goods back to us."));
  t.false(mail!.Text.includes("Print the return label"));
  t.false(hrefsIn(mail!.HTML).some((href) => href.includes("carrier")));
});
