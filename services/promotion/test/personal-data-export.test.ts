// A user's download of their data, promotion's part: the promotions their orders redeemed; never
// another customer's; served as PersonalDataService to identity alone.
import test from "ava";
import { randomUUID } from "node:crypto";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { PersonalDataService } from "@bazaar/contracts/bazaar/privacy/v1/personal_data_service_pb";
import { bearer, failure, perFile } from "@bazaar/platform/testing";
import { eur, newCode, promotionSpec, startPromotion } from "./helpers.ts";

const harness = perFile(test, async (teardown) => {
  const h = await startPromotion();
  teardown(() => h.stop());
  return h;
});

test("identity gets the user's redemptions, none of another customer's; cart's token is refused", async (t) => {
  const h = harness();
  const code = newCode("TEN");
  const { promotion } = await h.admin.createPromotion({ promotion: promotionSpec({ code, name: "Ten off" }) });
  const [me, other] = [randomUUID(), randomUUID()];
  const [myOrder, theirOrder] = [randomUUID(), randomUUID()];
  await h.saga.redeemPromotions({ orderId: myOrder, customerId: me, redemptions: [{ promotionId: promotion!.id, code, amount: eur(150n) }] });
  await h.saga.redeemPromotions({ orderId: theirOrder, customerId: other, redemptions: [{ promotionId: promotion!.id, code, amount: eur(150n) }] });

  const holder = async (service: string) =>
    createClient(PersonalDataService, createGrpcTransport({ baseUrl: `http://${h.service.address}`, interceptors: [bearer(await h.signer.token({ subject: service, service: true }))] }));
  const part = JSON.parse((await (await holder("identity")).exportPersonalData({ userId: me })).json) as { redemptions: Record<string, unknown>[] };
  t.deepEqual(part.redemptions.map((r) => [r.order_id, r.promotion_name, r.code, r.amount, r.currency]), [[myOrder, "Ten off", code, "150", "EUR"]]);
  t.false(JSON.stringify(part).includes(theirOrder));
  t.is((await failure((await holder("cart")).exportPersonalData({ userId: me }))).code, Code.PermissionDenied);
});
