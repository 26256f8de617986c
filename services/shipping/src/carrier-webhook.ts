// POST /webhooks/carrier/<carrier>: tracking updates pushed by a carrier, as real carriers do. The
// body is signed: header `x-carrier-signature` = hex HMAC-SHA256(secret, `<timestamp>.<body>`) with
// `x-carrier-timestamp` in Unix seconds. A bad signature, a timestamp outside the tolerance window, or
// a delivery already seen (its signature recorded) is refused with 401 and changes nothing; an unknown
// tracking number is 404; a malformed body 400. The update's own id makes a redelivered update (a new
// delivery of the same update) apply once.
import { createHmac, timingSafeEqual } from "node:crypto";
import { DomainError, NotFoundError, FailedPreconditionError, type Database, type Logger, type WebhookHandler } from "@bazaar/platform";
import type { TrackingKind } from "./carrier.ts";
import type { Shipments } from "./shipments.ts";
import { tables } from "./zones.ts";

export interface CarrierWebhookOptions {
  carrier: string;
  secret: string;
  toleranceSeconds: number;
  database: Database;
  shipments: Shipments;
  logger: Logger;
  /** The clock, in milliseconds (tests move it). */
  now?: () => number;
}

const kinds: readonly TrackingKind[] = ["in_transit", "out_for_delivery", "delivered", "exception"];

/** The signature header value for `body` at `timestamp` (what a carrier sends; tests sign with it). */
export function signCarrierWebhook(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

interface TrackingBody {
  update_id: string;
  tracking_number: string;
  status: TrackingKind;
  description?: string;
  location?: string;
  occurred_at?: string;
}

function parse(body: Buffer): TrackingBody | string {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    return "body must be JSON";
  }
  const v = value as Partial<TrackingBody>;
  if (typeof v !== "object" || v === null) return "body must be a JSON object";
  if (typeof v.update_id !== "string" || v.update_id.length < 1 || v.update_id.length > 200) return "update_id must be 1–200 characters";
  if (typeof v.tracking_number !== "string" || v.tracking_number.length < 1 || v.tracking_number.length > 64) return "tracking_number must be 1–64 characters";
  if (!kinds.includes(v.status as TrackingKind)) return `status must be one of ${kinds.join(", ")}`;
  if (v.description !== undefined && (typeof v.description !== "string" || v.description.length > 500)) return "description must be at most 500 characters";
  if (v.location !== undefined && (typeof v.location !== "string" || v.location.length > 200)) return "location must be at most 200 characters";
  if (v.occurred_at !== undefined && (typeof v.occurred_at !== "string" || Number.isNaN(Date.parse(v.occurred_at)))) return "occurred_at must be an ISO 8601 time";
  return v as TrackingBody;
}

export function carrierWebhook(options: CarrierWebhookOptions): WebhookHandler {
  const now = options.now ?? Date.now;
  const unauthenticated = (why: string) => {
    options.logger.warn({ carrier: options.carrier, why }, "carrier webhook refused");
    return { status: 401, body: `${why}\n` };
  };
  return async ({ body, headers }) => {
    const signature = headers.get("x-carrier-signature") ?? "";
    const timestampText = headers.get("x-carrier-timestamp") ?? "";
    if (!/^[0-9a-f]{64}$/.test(signature) || !/^\d{1,12}$/.test(timestampText)) return unauthenticated("missing or malformed x-carrier-signature / x-carrier-timestamp");
    const timestamp = Number(timestampText);
    const expected = Buffer.from(signCarrierWebhook(options.secret, timestamp, body), "hex");
    if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) return unauthenticated("signature does not match");
    if (Math.abs(now() / 1000 - timestamp) > options.toleranceSeconds) return unauthenticated("timestamp outside the accepted window");
    const update = parse(body);
    if (typeof update === "string") return { status: 400, body: `${update}\n` };
    // A replay of this very delivery (same signature) inside the window is refused.
    const fresh = await tables(options.database.em())
      .insertInto("carrier_webhook_delivery")
      .values({ signature })
      .onConflict((oc) => oc.column("signature").doNothing())
      .returning("signature")
      .execute();
    if (fresh.length === 0) return unauthenticated("this delivery was already received (replay)");
    try {
      const shipment = await options.shipments.recordTracking({
        trackingNumber: update.tracking_number,
        kind: update.status,
        description: update.description ?? "",
        location: update.location ?? "",
        updateKey: update.update_id,
        ...(update.occurred_at ? { occurredAt: new Date(update.occurred_at) } : {}),
      });
      return { status: 200, body: `${shipment.status}\n` };
    } catch (error) {
      if (error instanceof NotFoundError) return { status: 404, body: "unknown tracking number\n" };
      if (error instanceof FailedPreconditionError) return { status: 409, body: `${(error as DomainError).message}\n` };
      throw error;
    }
  };
}
