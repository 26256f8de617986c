// A user's download of their data, cart's part: their active cart with lines and codes, never another
// user's or a checked-out one; served as PersonalDataService to identity alone.
import test from "ava";
import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { PersonalDataService } from "@bazaar/contracts/bazaar/privacy/v1/personal_data_service_pb";
import { failure, perFile, startTestService } from "@bazaar/platform/testing";
import { cart, cartConfigSchema, type CartConfig } from "../src/index.ts";

const harness = perFile(test, async (teardown) => {
  const h = await startTestService<typeof PersonalDataService, CartConfig>({
    contract: PersonalDataService,
    prefix: "cart",
    configSchema: cartConfigSchema,
    define: (name, config) => cart({ config, name }),
    peerSubject: "identity",
  });
  teardown(() => h.stop());
  return h;
});

async function cartOf(userId: string, state: string, skus: string[]): Promise<string> {
  const h = harness();
  const id = randomUUID();
  // A checked-out cart names its order.
  await h.sql("insert into cart (id, user_id, state, currency, order_id) values ($1, $2, $3, 'USD', $4)", [id, userId, state, state === "checked_out" ? randomUUID() : null]);
  for (const sku of skus) await h.sql("insert into cart_line (cart_id, sku, quantity) values ($1, $2, 2)", [id, sku]);
  return id;
}

test("identity gets the user's active cart with its lines and codes, not a checked-out one nor another user's", async (t) => {
  const h = harness();
  const [me, other] = [randomUUID(), randomUUID()];
  const active = await cartOf(me, "active", ["SKU-MINE"]);
  await h.sql("insert into cart_promotion_code (cart_id, code) values ($1, 'TENOFF')", [active]);
  await cartOf(me, "checked_out", ["SKU-BOUGHT"]);
  await cartOf(other, "active", ["SKU-THEIRS"]);
  const part = await h.peer.exportPersonalData({ userId: me });
  const json = JSON.parse(part.json) as { active_cart: { id: string; lines: { sku: string; quantity: number }[]; promotion_codes: { code: string }[] } };
  t.is(json.active_cart.id, active);
  t.deepEqual(json.active_cart.lines.map((l) => [l.sku, l.quantity]), [["SKU-MINE", 2]]);
  t.deepEqual(json.active_cart.promotion_codes.map((c) => c.code), ["TENOFF"]);
  t.false(part.json.includes("SKU-THEIRS") || part.json.includes("SKU-BOUGHT"));
  t.deepEqual(JSON.parse((await h.peer.exportPersonalData({ userId: randomUUID() })).json), { active_cart: null });
});

test("a user's own token and another service's are refused", async (t) => {
  const h = harness();
  t.is((await failure(h.customer.exportPersonalData({ userId: "user-1" }))).code, Code.PermissionDenied);
  const asPromotion = h.clientWith(await h.signer.token({ subject: "promotion", service: true }));
  t.is((await failure(asPromotion.exportPersonalData({ userId: "user-1" }))).reason, "SERVICE_NOT_PERMITTED");
});
