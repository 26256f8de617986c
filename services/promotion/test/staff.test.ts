// Staff's side against the real stack: create, read, update with etag, pause, archive, list with
// keyset pages, codes (case-insensitive; a batch of single-use codes and its export), the events,
// who may do what, and bad input refused field by field with nothing changed.
import test from "ava";
import { Code } from "@connectrpc/connect";
import { PromotionArchivedSchema, PromotionCreatedSchema, PromotionUpdatedSchema } from "@bazaar/contracts/bazaar/promotion/v1/events_pb";
import { PromotionState } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { fromBinary } from "@bufbuild/protobuf";
import { readStream } from "@bazaar/platform/testing";
import { eur, failure, newCode, outboxEvents, promotionSpec, startPromotion, type Harness } from "./helpers.ts";

let h: Harness;
test.before(async () => {
  h = await startPromotion();
});
test.after.always(async () => {
  await h?.stop();
});

test("a promotion is created, read with its figures, updated with its etag, paused, resumed and archived, each with its event", async (t) => {
  const code = newCode("Sale");
  const { promotion: created } = await h.admin.createPromotion({ promotion: promotionSpec({ code, usageLimit: 100n, budget: eur(50_000n) }) });
  t.is(created!.state, PromotionState.ACTIVE);
  t.is(created!.code, code.toUpperCase(), "codes are kept upper case");
  t.is(created!.redemptionCount, 0n);
  t.deepEqual(created!.budget, { $typeName: "bazaar.type.v1.Money", amountMinor: 50_000n, currencyCode: "EUR" });
  const { promotion: read } = await h.admin.getPromotion({ promotionId: created!.id });
  t.is(read!.etag, created!.etag);

  const { promotion: updated } = await h.admin.updatePromotion({
    promotion: { id: created!.id, name: "15 % off", action: { kind: { case: "orderPercentOff", value: { percentBps: 1500 } } } },
    updateMask: { paths: ["name", "action"] },
    etag: created!.etag,
  });
  t.is(updated!.name, "15 % off");
  t.not(updated!.etag, created!.etag);
  t.is(updated!.usageLimit, 100n, "fields outside the mask stay");
  const stale = await failure(h.admin.updatePromotion({ promotion: { id: created!.id, name: "late" }, updateMask: { paths: ["name"] }, etag: created!.etag }));
  t.is(stale.code, Code.Aborted);
  t.is(stale.reason, "STALE_ETAG");

  t.is((await h.admin.pausePromotion({ promotionId: created!.id, paused: true })).promotion!.state, PromotionState.PAUSED);
  t.is((await h.admin.pausePromotion({ promotionId: created!.id, paused: true })).promotion!.state, PromotionState.PAUSED, "pausing twice is the same");
  t.is((await h.admin.pausePromotion({ promotionId: created!.id, paused: false })).promotion!.state, PromotionState.ACTIVE);
  t.is((await h.admin.archivePromotion({ promotionId: created!.id })).promotion!.state, PromotionState.ARCHIVED);
  const again = await failure(h.admin.pausePromotion({ promotionId: created!.id, paused: false }));
  t.is(again.reason, "PROMOTION_ARCHIVED");

  const mine = <T extends { promotionId: string }>(events: T[]) => events.filter((e) => e.promotionId === created!.id);
  t.is(mine(await outboxEvents(h, PromotionCreatedSchema))[0]!.code, code.toUpperCase());
  t.deepEqual(mine(await outboxEvents(h, PromotionUpdatedSchema)).map((e) => e.changed), [["name", "action"], ["paused"], ["resumed"]]);
  t.is(mine(await outboxEvents(h, PromotionArchivedSchema)).length, 1);
});

test("codes are case-insensitive: another promotion cannot take the same code in other letters", async (t) => {
  const code = newCode("Dup");
  await h.admin.createPromotion({ promotion: promotionSpec({ code: code.toLowerCase() }) });
  const taken = await failure(h.admin.createPromotion({ promotion: promotionSpec({ code: code.toUpperCase() }) }));
  t.is(taken.code, Code.AlreadyExists);
  t.is(taken.reason, "CODE_TAKEN");
});

test("10 000 unique single-use codes with a prefix are generated in one call and exported page by page", async (t) => {
  const { promotion } = await h.admin.createPromotion({ promotion: promotionSpec() });
  const { codes } = await h.admin.generatePromotionCodes({ promotionId: promotion!.id, prefix: "vip", count: 10_000 });
  t.is(codes.length, 10_000);
  t.is(new Set(codes).size, 10_000);
  t.true(codes.every((c) => /^VIP-[A-Z0-9]{10}$/.test(c)));
  const exported: string[] = [];
  let pageToken = "";
  do {
    const page = await h.admin.listPromotionCodes({ promotionId: promotion!.id, pageSize: 3000, pageToken });
    exported.push(...page.codes.map((c) => c.code));
    t.true(page.codes.every((c) => c.orderId === ""));
    pageToken = page.nextPageToken;
  } while (pageToken);
  t.deepEqual(exported, [...codes].sort());
  t.is((await h.admin.getPromotion({ promotionId: promotion!.id })).promotion!.generatedCodeCount, 10_000n);
  const tooMany = await failure(h.admin.generatePromotionCodes({ promotionId: promotion!.id, prefix: "vip", count: 10_001 }));
  t.is(tooMany.code, Code.InvalidArgument);
  t.deepEqual(tooMany.fields, ["count"]);
  t.is((await h.sql<{ n: string }>("select count(*) as n from promotion_code where promotion_id = $1", [promotion!.id]))[0]!.n, "10000");
});

test("listing pages newest first by keyset, filtered by state, and refuses a token of another filter", async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await h.admin.createPromotion({ promotion: promotionSpec({ name: `page ${i}` }) })).promotion!.id);
  await h.admin.pausePromotion({ promotionId: ids[1]!, paused: true });
  const seen: string[] = [];
  let pageToken = "";
  do {
    const page = await h.admin.listPromotions({ pageSize: 2, pageToken });
    seen.push(...page.promotions.map((p) => p.id));
    pageToken = page.nextPageToken;
  } while (pageToken);
  const sorted = [...seen].sort().reverse();
  t.deepEqual(seen, sorted, "newest first");
  t.true(ids.every((id) => seen.includes(id)));
  const paused = await h.admin.listPromotions({ state: PromotionState.PAUSED, pageSize: 200 });
  t.true(paused.promotions.some((p) => p.id === ids[1]));
  t.true(paused.promotions.every((p) => p.state === PromotionState.PAUSED));
  const first = await h.admin.listPromotions({ pageSize: 1 });
  const foreign = await failure(h.admin.listPromotions({ pageSize: 1, pageToken: first.nextPageToken, state: PromotionState.ACTIVE }));
  t.deepEqual(foreign.fields, ["page_token"]);
});

test("bad input is refused with every offending field named, and nothing is created", async (t) => {
  // Every request below carries this description: none of them may leave a promotion behind.
  const tag = `bad input ${crypto.randomUUID()}`;
  const bad = await failure(
    h.admin.createPromotion({
      promotion: promotionSpec({
        description: tag,
        name: "",
        code: "has space",
        conditions: {},
        action: { kind: { case: "orderPercentOff", value: { percentBps: 10_001 } } },
        startTime: { seconds: 2_000_000_000n },
        endTime: { seconds: 1_000_000_000n },
        budget: { amountMinor: -5n, currencyCode: "" },
      }),
    }),
  );
  t.is(bad.code, Code.InvalidArgument);
  t.deepEqual(
    [...bad.fields].sort(),
    [
      "promotion.action.order_percent_off.percent_bps",
      "promotion.budget.amount_minor",
      "promotion.budget.currency_code",
      "promotion.code",
      "promotion.conditions.everything",
      "promotion.end_time",
      "promotion.name",
    ].sort(),
  );
  const longCode = await failure(h.admin.createPromotion({ promotion: promotionSpec({ description: tag, code: "X".repeat(65) }) }));
  t.deepEqual(longCode.fields, ["promotion.code"]);
  const amounts = await failure(
    h.admin.createPromotion({ promotion: promotionSpec({ description: tag, action: { kind: { case: "orderAmountOff", value: { amounts: [{ amountMinor: -1n, currencyCode: "EUR" }, { amountMinor: 5n, currencyCode: "" }] } } } }) }),
  );
  t.deepEqual(amounts.fields, ["promotion.action.order_amount_off.amounts[0].amount_minor", "promotion.action.order_amount_off.amounts[1].currency_code"]);
  const negativePercent = await failure(h.admin.createPromotion({ promotion: promotionSpec({ description: tag, action: { kind: { case: "itemsOff", value: { percentBps: -1 } } } }) }));
  t.deepEqual(negativePercent.fields, ["promotion.action.items_off.percent_bps"]);
  const noAction = await failure(h.admin.createPromotion({ promotion: promotionSpec({ description: tag, action: {} }) }));
  t.deepEqual(noAction.fields, ["promotion.action"]);
  t.is((await h.sql<{ n: string }>("select count(*) as n from promotion where description = $1", [tag]))[0]!.n, "0");
});

test("staff methods need the admin role; evaluation is for services; anonymous callers are unauthenticated", async (t) => {
  t.is((await failure(h.customer.createPromotion({ promotion: promotionSpec() }))).code, Code.PermissionDenied);
  t.is((await failure(h.anonymous.listPromotions({}))).code, Code.Unauthenticated);
  t.is((await failure(h.customer.evaluateCart({ currencyCode: "EUR" }))).code, Code.PermissionDenied);
  t.is((await failure(h.customer.redeemPromotions({ orderId: crypto.randomUUID() }))).code, Code.PermissionDenied);
  t.is((await h.cart.evaluateCart({ currencyCode: "EUR" })).applied.length >= 0, true);
});

test("PromotionCreated leaves through the outbox and arrives on JetStream with the event id as the message id", async (t) => {
  const since = new Date(Date.now() - 1000);
  const code = newCode("STREAM");
  const { promotion } = await h.admin.createPromotion({ promotion: promotionSpec({ code }) });
  const [received] = await readStream({
    stream: "BAZAAR_PROMOTION",
    subject: "bazaar.promotion.promotion_created",
    since,
    count: 1,
    timeoutMs: 30_000,
    what: `PromotionCreated of ${promotion!.id}`,
    pick: ({ data, msgId }) => {
      const event = fromBinary(PromotionCreatedSchema, data);
      return event.promotionId === promotion!.id ? { event, msgId } : undefined;
    },
  });
  t.is(received!.msgId, received!.event.eventId);
  t.is(received!.event.code, code);
  t.truthy(received!.event.occurredAt);
});
