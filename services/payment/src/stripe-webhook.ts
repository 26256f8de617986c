// POST /webhooks/stripe: Stripe's word on PaymentIntents that changed outside a call of ours (a
// "processing" authorisation that settled, a capture or cancellation in the dashboard). The signature
// is verified by Stripe's own library over the exact bytes; each Stripe event applies once (its id is
// recorded in the same transaction as its effect), and the matching domain event is published.
import { isUuid, typedQueries, type Database, type EntityManager, type Logger, type WebhookHandler } from "@bazaar/platform";
import Stripe from "stripe";
import { gatewayKeys } from "./gateway.ts";
import { lockByGatewayReference, markAuthorized, markCaptured, markFailed, markVoided, type PaymentRow } from "./payment-store.ts";
import { paymentEntities } from "./entities.ts";
import { declineCodeOf } from "./stripe-gateway.ts";

export interface StripeWebhookOptions {
  database: Database;
  /** The endpoint's signing secret (whsec_…). */
  secret: string;
  logger: Logger;
  /** Oldest signature timestamp accepted, in seconds (replays of older ones are refused). Default 300, Stripe's. */
  toleranceSeconds?: number;
}


const handled = new Set([
  "payment_intent.amount_capturable_updated",
  "payment_intent.succeeded",
  "payment_intent.payment_failed",
  "payment_intent.canceled",
]);

export function stripeWebhook(options: StripeWebhookOptions): WebhookHandler {
  const { database, logger } = options;
  return async ({ body, headers }) => {
    const signature = headers.get("stripe-signature");
    if (!signature) return { status: 400, body: "missing Stripe-Signature header\n" };
    let event: Stripe.Event;
    try {
      event = Stripe.webhooks.constructEvent(body, signature, options.secret, options.toleranceSeconds);
    } catch (error) {
      logger.warn({ err: error }, "stripe webhook refused: signature verification failed");
      return { status: 400, body: "signature verification failed\n" };
    }
    if (!handled.has(event.type)) return { status: 200, body: "ignored\n" };
    const applied = await database.transaction(async (em) => {
      const recorded = await typedQueries(em, paymentEntities)
        .insertInto("stripe_webhook_event")
        .values({ event_id: event.id, type: event.type })
        .onConflict((oc) => oc.column("event_id").doNothing())
        .returning("event_id")
        .executeTakeFirst();
      if (!recorded) return "duplicate";
      return apply(em, event.type, event.data.object as Stripe.PaymentIntent);
    });
    if (applied === "amount mismatch") logger.error({ stripeEvent: event.id, type: event.type }, "stripe webhook: succeeded with another amount or currency than the payment's; not recorded as captured");
    else logger.info({ stripeEvent: event.id, type: event.type, applied }, "stripe webhook");
    return { status: 200, body: `${applied}\n` };
  };
}

/** Whether Stripe received this payment's amount in its currency (Stripe's amounts are minor units too). */
function receivedInFull(intent: Stripe.PaymentIntent, payment: PaymentRow): boolean {
  const received = typeof intent.amount_received === "number" ? BigInt(intent.amount_received) : undefined;
  return received === payment.amount && typeof intent.currency === "string" && intent.currency.toUpperCase() === payment.currency;
}

async function apply(em: EntityManager, type: string, intent: Stripe.PaymentIntent): Promise<string> {
  const orderId = intent.metadata?.order_id;
  const payment = await lockByGatewayReference(em, "stripe", intent.id, orderId && isUuid(orderId) ? orderId : undefined);
  if (!payment) return "unknown payment";
  const authorizeKey = gatewayKeys.authorize(payment.orderId);
  const authorized = async (): Promise<PaymentRow> => {
    if (payment.state !== "pending") return payment;
    await markAuthorized(em, payment, intent.id, authorizeKey);
    return { ...payment, state: "authorized", gatewayReference: intent.id };
  };
  switch (type) {
    case "payment_intent.amount_capturable_updated":
      if (payment.state !== "pending") return "no change";
      await authorized();
      return "authorized";
    case "payment_intent.succeeded": {
      if (payment.state !== "pending" && payment.state !== "authorized") return "no change";
      // Captured means this payment's money arrived: the intent must carry exactly its amount and currency.
      if (!receivedInFull(intent, payment)) return "amount mismatch";
      await markCaptured(em, await authorized(), gatewayKeys.capture(payment.orderId));
      return "captured";
    }
    case "payment_intent.payment_failed": {
      if (payment.state !== "pending") return "no change";
      const error = intent.last_payment_error;
      const code = error?.type === "card_error" ? declineCodeOf(error) : "GATEWAY_ERROR";
      await markFailed(em, payment, { code, message: error?.message ?? "The payment failed.", reference: intent.id }, authorizeKey);
      return "failed";
    }
    case "payment_intent.canceled":
      if (payment.state !== "pending" && payment.state !== "authorized") return "no change";
      await markVoided(em, payment, gatewayKeys.void(payment.orderId));
      return "voided";
    default:
      return "ignored";
  }
}
