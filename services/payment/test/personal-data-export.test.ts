// A user's download of their data, payment's part: the payments of their orders with their operations,
// never another customer's; served as PersonalDataService to identity alone. A deleted account's
// payments lose the email (identity's UserDeleted), keeping amounts and operations.
import test from "ava";
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { PersonalDataService } from "@bazaar/contracts/bazaar/privacy/v1/personal_data_service_pb";
import { UserDeletedSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { bearer, eventually, failure, perFile, publishEvent } from "@bazaar/platform/testing";
import { eur, newOrderId, startPayment } from "./helpers.ts";

const harness = perFile(test, async (teardown) => {
  const h = await startPayment();
  teardown(() => h.stop());
  return h;
});

test("identity gets the user's payments with their operations, none of another customer's; order's token is refused", async (t) => {
  const h = harness();
  const [me, other] = [randomUUID(), randomUUID()];
  const [mine, theirs] = [newOrderId(), newOrderId()];
  await h.saga.authorizePayment({ orderId: mine, amount: eur(1200n), paymentMethod: "pm_test_ok", customerId: me, email: "me@example.com" });
  await h.saga.authorizePayment({ orderId: theirs, amount: eur(900n), paymentMethod: "pm_test_ok", customerId: other, email: "them@example.com" });

  const holder = async (service: string) =>
    createClient(PersonalDataService, createGrpcTransport({ baseUrl: h.baseUrl, interceptors: [bearer(await h.signer.token({ subject: service, service: true }))] }));
  const part = JSON.parse((await (await holder("identity")).exportPersonalData({ userId: me })).json) as { payments: Record<string, unknown>[] };
  t.deepEqual(part.payments.map((p) => [p.order_id, p.amount, p.currency, p.email, p.state]), [[mine, "1200", "EUR", "me@example.com", "authorized"]]);
  t.true((part.payments[0]!.operations as { kind: string }[]).length >= 1, "its operations (the authorisation)");
  t.false(JSON.stringify(part).includes(theirs) || JSON.stringify(part).includes("them@example.com"));
  t.is((await failure((await holder("order")).exportPersonalData({ userId: me }))).code, Code.PermissionDenied);
});

test("UserDeleted erases the email of the user's payments, once however often it arrives, and no one else's", async (t) => {
  const h = harness();
  const [leaving, staying] = [randomUUID(), randomUUID()];
  await h.saga.authorizePayment({ orderId: newOrderId(), amount: eur(1500n), paymentMethod: "pm_test_ok", customerId: leaving, email: "leaving@example.com" });
  await h.saga.authorizePayment({ orderId: newOrderId(), amount: eur(700n), paymentMethod: "pm_test_ok", customerId: staying, email: "staying@example.com" });
  const asIdentity = createClient(PersonalDataService, createGrpcTransport({ baseUrl: h.baseUrl, interceptors: [bearer(await h.signer.token({ subject: "identity", service: true }))] }));
  const paymentsOf = async (userId: string) => (JSON.parse((await asIdentity.exportPersonalData({ userId })).json) as { payments: Record<string, unknown>[] }).payments;

  const deleted = create(UserDeletedSchema, { eventId: randomUUID(), userId: leaving });
  await publishEvent(UserDeletedSchema, deleted);
  await publishEvent(UserDeletedSchema, deleted); // a redelivered copy changes nothing more
  await eventually("the leaving user's payment without its email", async () => (await paymentsOf(leaving))[0]?.email === "");
  t.deepEqual((await paymentsOf(leaving)).map((p) => [p.amount, p.state]), [["1500", "authorized"]], "the amount and state stay");
  t.deepEqual((await paymentsOf(staying)).map((p) => p.email), ["staying@example.com"]);
});
