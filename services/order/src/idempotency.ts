// PlaceOrder's idempotency keys, with Stripe's semantics: a key is scoped to its buyer, remembers a
// hash of the request and the order it created; the same key with the same request answers the
// stored result, with another request INVALID_ARGUMENT. The (scope, key) primary key decides races.
import { createHash } from "node:crypto";
import { InvalidArgumentError, query, startPeriodic, type BackgroundTask, type Database, type EntityManager, type Logger } from "@bazaar/platform";
import { toBinary } from "@bufbuild/protobuf";
import { PlaceOrderRequestSchema, type PlaceOrderRequest } from "@bazaar/contracts/bazaar/order/v1/order_pb";

export const sha256 = (text: string | Uint8Array) => createHash("sha256").update(text).digest("hex");

/** "user:<sub>" for a signed-in buyer, "guest:<sha256 of the cart token>" for a guest. */
export function keyScope(userId: string | undefined, cartToken: string): string {
  return userId ? `user:${userId}` : `guest:${sha256(cartToken)}`;
}

/** The request's fingerprint: protobuf-es writes fields in number order, so equal requests hash alike. */
export const requestHash = (request: PlaceOrderRequest) => sha256(toBinary(PlaceOrderRequestSchema, request));

export interface StoredKey {
  orderId: string;
  requestHash: string;
}

export async function findKey(em: EntityManager, scope: string, key: string): Promise<StoredKey | undefined> {
  const [row] = await query(em, "select order_id, request_hash from idempotency_key where scope = ? and key = ?", [scope, key]);
  return row ? { orderId: String(row.order_id), requestHash: String(row.request_hash) } : undefined;
}

/** Throws INVALID_ARGUMENT naming idempotency_key when a stored key was made by a different request. */
export function checkSameRequest(stored: StoredKey, hash: string): void {
  if (stored.requestHash !== hash) {
    throw new InvalidArgumentError({ field: "idempotency_key", description: "was already used with a different request; use a new key for a new checkout" });
  }
}

/** Deletes keys older than the retention (at least 24 h) every `intervalMs`. */
export function startKeySweeper(options: { database: Database; logger: Logger; retentionHours: number; intervalMs?: number }): BackgroundTask {
  return startPeriodic({
    intervalMs: options.intervalMs ?? 10 * 60_000,
    firstRunMs: 1000,
    logger: options.logger,
    what: "idempotency key sweep",
    async run() {
      const deleted = await options.database.transaction((em) =>
        em.execute("delete from idempotency_key where created_at < clock_timestamp() - ? * interval '1 hour'", [options.retentionHours], "run"),
      );
      const count = (deleted as { affectedRows?: number }).affectedRows ?? 0;
      if (count > 0) options.logger.info({ deleted: count }, "expired idempotency keys deleted");
    },
  });
}
