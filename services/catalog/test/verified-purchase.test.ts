// "Verified purchase" follows the order service's events: OrderPlaced by a signed-in buyer marks their
// later review of a product in it; OrderCancelled takes that back; others and guests verify nothing.
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import test from "ava";
import { randomUUID } from "node:crypto";
import { uuidv7 } from "uuidv7";
import { OrderCancelledSchema, OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { publishEvent } from "@bazaar/platform/testing";
import { category, product } from "./fixtures.ts";
import { connect } from "nats";
import { natsServers } from "@bazaar/platform";
import { eventually, env, startCatalog } from "./helpers.ts";

/** Whether the durable has been handed and has acknowledged everything in the order stream. */
async function consumerDone(durable: string): Promise<boolean> {
  const nats = await connect(natsServers(env.NATS_URL ?? "nats://127.0.0.1:4222"));
  try {
    const info = await (await nats.jetstreamManager()).consumers.info("BAZAAR_ORDER", durable);
    return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.consumer_seq > 0;
  } finally {
    await nats.close();
  }
}

const placed = (orderId: string, userId: string, productIds: string[]) =>
  create(OrderPlacedSchema, {
    eventId: uuidv7(),
    occurredAt: timestampNow(),
    orderId,
    userId,
    email: "buyer@example.com",
    lines: productIds.map((productId, i) => ({ sku: `SKU-${i}`, productId, quantity: 1, unitPrice: { amountMinor: 100n, currencyCode: "USD" } })),
    total: { amountMinor: BigInt(100 * productIds.length), currencyCode: "USD" },
  });

test("a review is a verified purchase when its author bought the product in an order not cancelled; guests and others verify nothing", async (t) => {
  const h = await startCatalog(t);
  const books = await category(h.admin, "Books");
  const [novel, atlas, poems] = await Promise.all(["Novel", "Atlas", "Poems"].map((name) => product(h.admin, { name, category: books })));
  const buyer = randomUUID();
  const other = randomUUID();
  const kept = placed(uuidv7(), buyer, [novel!.id, atlas!.id]);
  const cancelled = placed(uuidv7(), buyer, [poems!.id]);
  await publishEvent(OrderPlacedSchema, kept);
  await publishEvent(OrderPlacedSchema, kept); // a duplicate: the stream drops it (same Nats-Msg-Id)
  await publishEvent(OrderPlacedSchema, placed(uuidv7(), "", [novel!.id])); // a guest's order
  await publishEvent(OrderPlacedSchema, cancelled);
  await publishEvent(OrderCancelledSchema, create(OrderCancelledSchema, { eventId: uuidv7(), occurredAt: timestampNow(), orderId: cancelled.orderId, userId: buyer, actor: "customer" }));

  await eventually("the catalog to have applied the order events", () => consumerDone(`${h.name}-purchases`));

  const asBuyer = await h.user(buyer);
  t.false((await asBuyer.createReview({ productId: poems!.id, rating: 3 })).review?.verifiedPurchase, "a cancelled order verifies nothing");
  t.true((await asBuyer.createReview({ productId: novel!.id, rating: 5 })).review?.verifiedPurchase);
  t.true((await asBuyer.createReview({ productId: atlas!.id, rating: 4 })).review?.verifiedPurchase);
  const asOther = await h.user(other);
  t.false((await asOther.createReview({ productId: novel!.id, rating: 2 })).review?.verifiedPurchase, "someone else's purchase does not verify them");
});
