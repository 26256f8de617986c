// A deleted account's reviews stay, unlinked from their author, and what it bought is forgotten:
// identity's UserDeleted through the catalog's consumer.
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import test from "ava";
import pg from "pg";
import { randomUUID } from "node:crypto";
import { uuidv7 } from "uuidv7";
import { UserDeletedSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { publishEvent, serviceDatabaseUrl } from "@bazaar/platform/testing";
import { category, product } from "./fixtures.ts";
import { eventually, startCatalog } from "./helpers.ts";

test("UserDeleted unlinks the user's reviews (two erased authors on one product included) and forgets their purchases; others keep theirs", async (t) => {
  const h = await startCatalog(t);
  const pool = new pg.Pool({ connectionString: serviceDatabaseUrl(h.name), max: 1 });
  t.teardown(() => pool.end());
  const sql = async (text: string, params: unknown[]) => (await pool.query(text, params)).rows;

  const books = await category(h.admin, "Books");
  const novel = await product(h.admin, { name: "Novel", category: books });
  const [first, second, staying] = [randomUUID(), randomUUID(), randomUUID()];
  await publishEvent(
    OrderPlacedSchema,
    create(OrderPlacedSchema, {
      eventId: uuidv7(),
      occurredAt: timestampNow(),
      orderId: uuidv7(),
      userId: first,
      lines: [{ sku: "SKU-1", productId: novel!.id, quantity: 1, unitPrice: { amountMinor: 100n, currencyCode: "USD" } }],
      total: { amountMinor: 100n, currencyCode: "USD" },
    }),
  );
  await eventually("the purchase recorded", async () => (await sql("select 1 from purchase where user_id = $1", [first])).length === 1);
  for (const [userId, rating] of [[first, 5], [second, 4], [staying, 3]] as const) {
    await (await h.user(userId)).createReview({ productId: novel!.id, rating, title: `from ${rating}` });
  }

  const deleted = create(UserDeletedSchema, { eventId: randomUUID(), userId: first });
  await publishEvent(UserDeletedSchema, deleted);
  await publishEvent(UserDeletedSchema, deleted);
  await publishEvent(UserDeletedSchema, create(UserDeletedSchema, { eventId: randomUUID(), userId: second }));
  await eventually("both authors unlinked", async () => (await sql("select 1 from review where user_id in ($1, $2)", [first, second])).length === 0);

  const { reviews } = await h.anonymous.listReviews({ productId: novel!.id });
  t.deepEqual(reviews.map((r) => [r.title, r.rating, r.userId]).sort(), [
    ["from 3", 3, staying],
    ["from 4", 4, ""],
    ["from 5", 5, ""],
  ]);
  t.true(reviews.find((r) => r.rating === 5)!.verifiedPurchase, "the review keeps what it said when written");
  t.is((await sql("select 1 from purchase where user_id = $1", [first])).length, 0);
  const { product: rated } = await h.anonymous.getProduct({ id: novel!.id });
  t.is(rated!.rating!.count, 3, "the product's rating still counts every review");
});
