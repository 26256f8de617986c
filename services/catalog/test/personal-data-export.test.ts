// A user's download of their data, catalog's part: the reviews they wrote and their purchases, served
// as PersonalDataService to identity alone.
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import test from "ava";
import { randomUUID } from "node:crypto";
import { uuidv7 } from "uuidv7";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { PersonalDataService } from "@bazaar/contracts/bazaar/privacy/v1/personal_data_service_pb";
import { bearer, failure, perFile, publishEvent } from "@bazaar/platform/testing";
import { category, product } from "./fixtures.ts";
import { eventually, serviceToken, startCatalog, token } from "./helpers.ts";

const harness = perFile(test, (teardown) => startCatalog({ teardown }, {}));

const personalData = (address: string, bearerToken: string | undefined) =>
  createClient(PersonalDataService, createGrpcTransport({ baseUrl: `http://${address}`, interceptors: [bearer(bearerToken)] }));

test("identity gets the user's reviews and purchases, and none of another user's", async (t) => {
  const h = harness();
  const books = await category(h.admin, "Books");
  const novel = await product(h.admin, { name: "Novel", category: books });
  const [reader, other] = [randomUUID(), randomUUID()];
  const orderId = uuidv7();
  await publishEvent(
    OrderPlacedSchema,
    create(OrderPlacedSchema, {
      eventId: uuidv7(),
      occurredAt: timestampNow(),
      orderId,
      userId: reader,
      lines: [{ sku: "SKU-1", productId: novel!.id, quantity: 1, unitPrice: { amountMinor: 100n, currencyCode: "USD" } }],
      total: { amountMinor: 100n, currencyCode: "USD" },
    }),
  );
  await (await h.user(reader)).createReview({ productId: novel!.id, rating: 5, title: "Loved it", body: "Read it twice" });
  await (await h.user(other)).createReview({ productId: novel!.id, rating: 2, title: "Not for me" });

  const identity = personalData(h.service.address, await serviceToken("identity"));
  const exported = await eventually("the purchase in the export", async () => {
    const part = await identity.exportPersonalData({ userId: reader });
    const json = JSON.parse(part.json) as { reviews: Record<string, unknown>[]; purchases: Record<string, unknown>[] };
    return json.purchases.length > 0 ? { part, json } : undefined;
  });
  t.is(exported.part.service, h.name);
  t.deepEqual(
    exported.json.reviews.map((r) => [r.product_id, r.product_name, r.rating, r.title, r.body]),
    [[novel!.id, "Novel", 5, "Loved it", "Read it twice"]],
  );
  t.deepEqual(exported.json.purchases.map((p) => [p.order_id, p.product_id]), [[orderId, novel!.id]]);
  t.false(exported.part.json.includes("Not for me"), "another user's review is not part of it");

  const nobody = JSON.parse((await identity.exportPersonalData({ userId: randomUUID() })).json);
  t.deepEqual(nobody, { reviews: [], purchases: [] });
});

test("only identity's service token may export: cart's, a user's (even the subject's own), an admin's and none are refused", async (t) => {
  const h = harness();
  const userId = randomUUID();
  const cart = await failure(personalData(h.service.address, await serviceToken("cart")).exportPersonalData({ userId }));
  t.is(cart.code, Code.PermissionDenied);
  t.is(cart.reason, "SERVICE_NOT_PERMITTED");
  t.regex(cart.message, /cart service may not call bazaar\.privacy\.v1\.PersonalDataService\/ExportPersonalData/);
  const self = await failure(personalData(h.service.address, await token(userId, ["customer"])).exportPersonalData({ userId }));
  t.is(self.code, Code.PermissionDenied);
  const admin = await failure(personalData(h.service.address, await token(randomUUID(), ["customer", "admin"])).exportPersonalData({ userId }));
  t.is(admin.code, Code.PermissionDenied);
  t.is((await failure(personalData(h.service.address, undefined).exportPersonalData({ userId }))).code, Code.Unauthenticated);
  const empty = await failure(personalData(h.service.address, await serviceToken("identity")).exportPersonalData({ userId: "" }));
  t.is(empty.code, Code.InvalidArgument);
  t.regex(empty.message, /user_id/);
});
