// A deleted account's returns keep their units and refunds and lose the person (email, comment):
// identity's UserDeleted through the returns service's consumer; another customer's stay as they were.
import test from "ava";
import { create } from "@bufbuild/protobuf";
import { randomUUID } from "node:crypto";
import { UserDeletedSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { ReturnReason, ReturnStatus } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { PersonalDataService } from "@bazaar/contracts/bazaar/privacy/v1/personal_data_service_pb";
import { bearer, failure, publishEvent } from "@bazaar/platform/testing";
import { deliveredUserOrder, eventually, returnsMeshPerFile, sellable } from "./helpers.ts";

const returnsMesh = returnsMeshPerFile(test);

test("UserDeleted erases the email and comment of the user's returns, keeping lines and status; another user's are untouched", async (t) => {
  const r = returnsMesh();
  const sku = await sellable(r.mesh, { price: 1500 });
  const request = async (userId: string) => {
    const order = await deliveredUserOrder(r.mesh, userId, [{ sku, quantity: 2 }]);
    const shopper = await r.user(userId);
    const { return: made } = await shopper.requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.DAMAGED, comment: "call me on +15550100" });
    return made!;
  };
  const leaving = randomUUID();
  const staying = randomUUID();
  const gone = await request(leaving);
  const kept = await request(staying);
  const emailOf = async (id: string) => (await r.sql<{ email: string; comment: string }>("select email, comment from return_request where id = $1", [id]))[0]!;
  t.not((await emailOf(gone.id)).email, "", "the order's email was copied onto the return");

  const deleted = create(UserDeletedSchema, { eventId: randomUUID(), userId: leaving });
  await publishEvent(UserDeletedSchema, deleted);
  await publishEvent(UserDeletedSchema, deleted);
  await eventually("the return anonymised", async () => (await emailOf(gone.id)).email === "");

  t.deepEqual(await emailOf(gone.id), { email: "", comment: "" });
  const { return: after } = await r.admin.getReturn({ returnId: gone.id });
  t.is(after!.status, ReturnStatus.REQUESTED);
  t.deepEqual(after!.lines.map((line) => [line.sku, line.quantity]), [[sku, 1]]);
  t.is((await emailOf(kept.id)).comment, "call me on +15550100");
  t.not((await emailOf(kept.id)).email, "");
});

test("identity's export gets the user's returns with their lines, none of another user's; cart's token is refused", async (t) => {
  const r = returnsMesh();
  const sku = await sellable(r.mesh, { price: 1500 });
  const request = async (userId: string, comment: string) => {
    const order = await deliveredUserOrder(r.mesh, userId, [{ sku, quantity: 2 }]);
    const { return: made } = await (await r.user(userId)).requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.DAMAGED, comment });
    return made!;
  };
  const [mine, theirs] = [randomUUID(), randomUUID()];
  const made = await request(mine, "box crushed");
  await request(theirs, "not mine to see");
  const holder = async (service: string) =>
    createClient(PersonalDataService, createGrpcTransport({ baseUrl: `http://${r.service.address}`, interceptors: [bearer(await r.mesh.signer.token({ subject: service, service: true }))] }));
  const part = JSON.parse((await (await holder("identity")).exportPersonalData({ userId: mine })).json) as { returns: Record<string, unknown>[] };
  t.deepEqual(part.returns.map((x) => [x.id, x.order_id, x.comment]), [[made.id, made.orderId, "box crushed"]]);
  t.deepEqual((part.returns[0]!.lines as Record<string, unknown>[]).map((l) => [l.sku, l.quantity]), [[sku, 1]]);
  t.false(JSON.stringify(part).includes("not mine to see"));
  const refused = await failure((await holder("cart")).exportPersonalData({ userId: mine }));
  t.is(refused.code, Code.PermissionDenied);
});
