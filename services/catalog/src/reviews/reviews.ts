// Reviews: one per user and product (a unique index says so, not only this code), rating 1–5; the
// product's count and sum move in the same transaction, so its average is always that of its reviews.
// "Verified purchase": the reviewer bought the product in an order not cancelled (see purchases.ts).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AlreadyExistsError, asDate, checkPageSize, checkUuid, isUniqueViolation, NotFoundError, violations, type EntityManager } from "@bazaar/platform";
import { RatingSchema, ReviewSchema, type Rating, type Review } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { uuidv7 } from "uuidv7";
import { decodePageToken, encodePageToken } from "../products/page-token.ts";
import { checkText, PAGE_SIZE } from "../validation.ts";

interface ReviewRow {
  id: string;
  product_id: string;
  user_id: string;
  rating: number;
  title: string;
  body: string;
  verified_purchase: boolean;
  created_at: Date | string;
}

const toReview = (row: ReviewRow): Review =>
  create(ReviewSchema, {
    id: row.id,
    productId: row.product_id,
    userId: row.user_id,
    rating: row.rating,
    title: row.title,
    body: row.body,
    verifiedPurchase: row.verified_purchase,
    createTime: timestampFromDate(asDate(row.created_at)),
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
  const [product] = await em.execute<{ status: string }[]>("select status from product where id = ?", [input.productId]);
  if (!product || product.status !== "active") throw new NotFoundError(`product ${input.productId} not found`);
  let row: ReviewRow | undefined;
  try {
    [row] = await em.execute<ReviewRow[]>(
      `insert into review (id, product_id, user_id, rating, title, body, verified_purchase)
       values (?, ?, ?, ?, ?, ?, exists (select 1 from purchase where user_id = ? and product_id = ?)) returning *`,
      [id, input.productId, userId, input.rating, input.title.trim(), input.body.trim(), userId, input.productId],
    );
  } catch (error) {
    if (isUniqueViolation(error, "review_one_per_user_and_product")) {
      throw new AlreadyExistsError("you have reviewed this product already", { cause: error, reason: "ALREADY_REVIEWED" });
    }
    throw error;
  }
  const [rating] = await em.execute<{ rating_avg: number; rating_count: number }[]>(
    "update product set rating_count = rating_count + 1, rating_sum = rating_sum + ? where id = ? returning rating_avg, rating_count",
    [input.rating, input.productId],
  );
  return { review: toReview(row!), rating: create(RatingSchema, { average: rating!.rating_avg, count: rating!.rating_count }) };
}

export async function listReviews(em: EntityManager, productId: string, size: number, token: string): Promise<{ reviews: Review[]; nextPageToken: string }> {
  const v = violations();
  checkUuid(v, "product_id", productId);
  const limit = checkPageSize(v, size, PAGE_SIZE);
  v.throwIfAny();
  const query = { reviewsOf: productId };
  const cursor = decodePageToken(token, query);
  const [product] = await em.execute<{ status: string }[]>("select status from product where id = ?", [productId]);
  if (!product || product.status !== "active") throw new NotFoundError(`product ${productId} not found`);
  const rows = await em.execute<ReviewRow[]>(
    `select * from review where product_id = ?${cursor ? " and id < ?" : ""} order by id desc limit ${limit + 1}`,
    cursor ? [productId, cursor.id] : [productId],
  );
  const page = rows.slice(0, limit);
  return {
    reviews: page.map(toReview),
    nextPageToken: rows.length > limit ? encodePageToken(query, { key: "", id: page.at(-1)!.id }) : "",
  };
}
