// POST /webhooks/stripe: Stripe's word on PaymentIntents that changed outside a call of ours (a
// "processing" authorisation that settled, a capture or cancellation in the dashboard). The signature
// is verified by Stripe's own library over the exact bytes; each Stripe event applies once (its id is
// recorded in the same transaction as its effect), and the matching domain event is published.
import { isUuid, type Database, type EntityManager, type Logger, type WebhookHandler } from "@bazaar/platform";
import Stripe from "stripe";
import { gatewayKeys } from "./gateway.ts";
import { lockByGatewayReference, markAuthorized, markCaptured, markFailed, markVoided, type PaymentRow } from "./payment-store.ts";
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
      const rows = (await em.execute(
        "insert into stripe_webhook_event (event_id, type) values (?, ?) on conflict (event_id) do nothing returning event_id",
        [event.id, event.type],
        "all",
      )) as unknown[];
      if (rows.length === 0) return "duplicate";
      return apply(em, event.type, event.data.object as Stripe.PaymentIntent);
    });
    logger.info({ stripeEvent: event.id, type: event.type, applied }, "stripe webhook");
    return { status: 200, body: `${applied}\n` };
  };
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
