// Reviews: one per user and product (a unique index says so, not only this code), rating 1–5; the
// product's count and sum move in the same transaction, so its average is always that of its reviews.
// "Verified purchase": the reviewer bought the product in an order not cancelled (see order-events.ts).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AlreadyExistsError,
  checkUuid,
  isUniqueViolation,
  isUuid,
  keysetPage,
  NotFoundError,
  readPage,
  typedQueries,
  violations,
  type EntityManager,
  type Keyset,
} from "@bazaar/platform";
import { RatingSchema, ReviewSchema, type Rating, type Review } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { uuidv7 } from "uuidv7";
import { catalogEntities } from "../entities.ts";
import { checkText, PAGE_SIZE } from "../validation.ts";
import { ERASED_AUTHOR } from "./personal-data.ts";

const tables = (em: EntityManager) => typedQueries(em, catalogEntities);
const reviewSelection = ["id", "product_id", "user_id", "rating", "title", "body", "verified_purchase", "created_at"] as const;
const selectReviews = (em: EntityManager) => tables(em).selectFrom("review").select(reviewSelection);
type ReviewRow = Awaited<ReturnType<ReturnType<typeof selectReviews>["executeTakeFirstOrThrow"]>>;

const toReview = (row: ReviewRow): Review =>
  create(ReviewSchema, {
    id: row.id,
    productId: row.product_id,
    // A deleted author's review keeps a placeholder of its own (see personal-data.ts): no author shown.
    userId: row.user_id.startsWith(ERASED_AUTHOR) ? "" : row.user_id,
    rating: row.rating,
    title: row.title,
    body: row.body,
    verifiedPurchase: row.verified_purchase,
    createTime: timestampFromDate(row.created_at),
  });

export interface ReviewInput {
  productId: string;
  rating: number;
  title: string;
  body: string;
}

export async function createReview(em: EntityManager, userId: string, input: ReviewInput, id = uuidv7()): Promise<{ review: Review; rating: Rating }> {
  const v = violations();
  checkUuid(v, "product_id", input.productId);
  v.check(Number.isInteger(input.rating) && input.rating >= 1 && input.rating <= 5, "rating", "must be a whole number from 1 to 5");
  checkText(v, input.title, "title", 0, 200);
  checkText(v, input.body, "body", 0, 5000);
  v.throwIfAny();
  await activeProduct(em, input.productId);
  let row: ReviewRow;
  try {
    row = await tables(em)
      .insertInto("review")
      .values((eb) => ({
        id,
        product_id: input.productId,
        user_id: userId,
        rating: input.rating,
        title: input.title.trim(),
        body: input.body.trim(),
        verified_purchase: eb.exists(eb.selectFrom("purchase").select("order_id").where("user_id", "=", userId).where("product_id", "=", input.productId)).$castTo<boolean>(),
      }))
      .returning(reviewSelection)
      .executeTakeFirstOrThrow();
  } catch (error) {
    if (isUniqueViolation(error, "review_one_per_user_and_product")) {
      throw new AlreadyExistsError("you have reviewed this product already", { cause: error, reason: "ALREADY_REVIEWED" });
    }
    throw error;
  }
  const rating = await tables(em)
    .updateTable("product")
    .set((eb) => ({ rating_count: eb("rating_count", "+", 1), rating_sum: eb("rating_sum", "+", input.rating) }))
    .where("id", "=", input.productId)
    .returning(["rating_avg", "rating_count"])
    .executeTakeFirstOrThrow();
  return { review: toReview(row), rating: create(RatingSchema, { average: Number(rating.rating_avg ?? 0), count: rating.rating_count }) };
}

async function activeProduct(em: EntityManager, productId: string): Promise<void> {
  const product = await tables(em).selectFrom("product").select("status").where("id", "=", productId).executeTakeFirst();
  if (!product || product.status !== "active") throw new NotFoundError(`product ${productId} not found`);
}

/** A product's reviews, newest first (ids are UUIDv7). */
const REVIEWS_ORDER: Keyset = { columns: ["id"], direction: "desc", valid: ([id]) => isUuid(id!) };

export async function listReviews(em: EntityManager, productId: string, pageSize: number, pageToken: string): Promise<{ reviews: Review[]; nextPageToken: string }> {
  const v = violations();
  checkUuid(v, "product_id", productId);
  const page = readPage(v, { pageSize, pageToken }, PAGE_SIZE, { reviewsOf: productId }, REVIEWS_ORDER);
  v.throwIfAny();
  await activeProduct(em, productId);
  const { rows, nextPageToken } = await keysetPage(selectReviews(em).where("product_id", "=", productId), page);
  return { reviews: rows.map(toReview), nextPageToken };
}
