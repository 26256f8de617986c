// The Stripe gateway: PaymentIntents with manual capture, confirmed at once with the payment method
// token; capture, cancel and refunds. Every request carries the operation's idempotency key, so Stripe
// answers a repeat with the first response. Declines become answers, unreachability GatewayUnavailable.
import Stripe from "stripe";
import {
  GatewayRejectedError,
  GatewayUnavailableError,
  type AuthorizeResult,
  type DeclineCode,
  type PaymentGateway,
} from "./gateway.ts";

export interface StripeClientOptions {
  secretKey: string;
  /** Another API base, e.g. stripe-mock's http://127.0.0.1:12111. Default: Stripe's own. */
  apiUrl?: string | undefined;
  /** Per request (default 20 000 ms). */
  timeoutMs?: number;
  /** Stripe's own retries of failed connections, with the same idempotency key (default 2). */
  maxNetworkRetries?: number;
}

export function createStripeClient(options: StripeClientOptions): Stripe {
  const url = options.apiUrl ? new URL(options.apiUrl) : undefined;
  return new Stripe(options.secretKey, {
    timeout: options.timeoutMs ?? 20_000,
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    telemetry: false,
    ...(url
      ? {
          host: url.hostname,
          port: url.port || (url.protocol === "https:" ? 443 : 80),
          protocol: url.protocol === "http:" ? ("http" as const) : ("https" as const),
        }
      : {}),
  });
}

/** Stripe's decline codes in the contract's words: insufficient funds is told apart, the rest is a decline. */
export function declineCodeOf(error: { code?: string | null | undefined; decline_code?: string | null | undefined } | null | undefined): DeclineCode {
  return error?.decline_code === "insufficient_funds" || error?.code === "insufficient_funds" ? "INSUFFICIENT_FUNDS" : "PAYMENT_DECLINED";
}

/** What a confirmed PaymentIntent means for the authorisation. */
export function authorizationOf(intent: Stripe.PaymentIntent): AuthorizeResult {
  switch (intent.status) {
    case "requires_capture":
    case "succeeded":
      return { outcome: "authorized", reference: intent.id };
    case "processing":
      return { outcome: "pending", reference: intent.id };
    case "requires_action":
    case "requires_confirmation":
      // 3-D Secure and redirects need the buyer; a service-side confirmation cannot complete them.
      return { outcome: "declined", code: "PAYMENT_DECLINED", message: "The payment method needs the buyer to authenticate.", reference: intent.id };
    default: {
      const error = intent.last_payment_error;
      return { outcome: "declined", code: declineCodeOf(error), message: error?.message ?? `The payment was not authorised (${intent.status}).`, reference: intent.id };
    }
  }
}

// Request errors that mean "this payment method cannot pay this", not "our request is wrong".
const decliningRequestCodes = new Set(["resource_missing", "amount_too_large", "amount_too_small", "payment_method_unactivated", "payment_method_unexpected_state"]);

/** Errors that say Stripe could not be reached or was not able to answer: the same call may be repeated. */
function isUnavailable(error: unknown): boolean {
  const errors = Stripe.errors;
  if (error instanceof errors.StripeConnectionError || error instanceof errors.StripeAPIError || error instanceof errors.StripeRateLimitError) return true;
  // The same key is being answered by a concurrent request right now.
  if (error instanceof errors.StripeIdempotencyError) return (error as { code?: string }).code === "idempotency_key_in_use";
  return error instanceof errors.StripeError && (error.statusCode ?? 0) >= 500;
}

function unavailable(error: unknown): GatewayUnavailableError {
  return new GatewayUnavailableError(`stripe: ${(error as Error).message}`, { cause: error });
}

export function createStripeGateway(options: { stripe: Stripe }): PaymentGateway {
  const { stripe } = options;

  /** A refusal of an operation on an existing PaymentIntent (unexpected state, too much refunded…). */
  function rejected(error: unknown): Error {
    if (isUnavailable(error)) return unavailable(error);
    if (error instanceof Stripe.errors.StripeInvalidRequestError || error instanceof Stripe.errors.StripeCardError) {
      return new GatewayRejectedError((error.code ?? "STRIPE_REFUSED").toUpperCase(), error.message, { cause: error });
    }
    return error as Error;
  }

  async function cancel(id: string, idempotencyKey: string): Promise<void> {
    try {
      await stripe.paymentIntents.cancel(id, { cancellation_reason: "abandoned" }, { idempotencyKey });
    } catch (error) {
      // Cancelled already (by a webhook's path or a person in the dashboard) is what was asked for.
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "payment_intent_unexpected_state") {
        const intent = await stripe.paymentIntents.retrieve(id).catch((retrieveError: unknown) => {
          throw rejected(retrieveError);
        });
        if (intent.status === "canceled") return;
      }
      throw rejected(error);
    }
  }

  return {
    name: "stripe",

    async authorize(input) {
      try {
        const intent = await stripe.paymentIntents.create(
          {
            amount: Number(input.amount), // at most 10^12: exact as a double
            currency: input.currency.toLowerCase(),
            payment_method: input.paymentMethod,
            // Confirmed by a service, with no buyer to send anywhere: methods that need a redirect are not offered.
            automatic_payment_methods: { enabled: true, allow_redirects: "never" },
            capture_method: "manual",
            confirm: true,
            ...(input.email ? { receipt_email: input.email } : {}),
            metadata: { order_id: input.orderId, ...(input.customerId ? { customer_id: input.customerId } : {}) },
          },
          { idempotencyKey: input.idempotencyKey },
        );
        return authorizationOf(intent);
      } catch (error) {
        if (isUnavailable(error)) throw unavailable(error);
        if (error instanceof Stripe.errors.StripeCardError) {
          return { outcome: "declined", code: declineCodeOf(error), message: error.message, ...(error.payment_intent ? { reference: error.payment_intent.id } : {}) };
        }
        if (error instanceof Stripe.errors.StripeInvalidRequestError && (error.param === "payment_method" || decliningRequestCodes.has(error.code ?? ""))) {
          return { outcome: "declined", code: "PAYMENT_DECLINED", message: error.message };
        }
        throw error;
      }
    },

    async capture(input) {
      try {
        await stripe.paymentIntents.capture(input.reference, { amount_to_capture: Number(input.amount) }, { idempotencyKey: input.idempotencyKey });
      } catch (error) {
        throw rejected(error);
      }
    },

    async void(input) {
      if (input.reference) return cancel(input.reference, input.idempotencyKey);
      // The authorisation's answer was never recorded (a crash mid-call): find it by its order.
      let found: Stripe.ApiSearchResult<Stripe.PaymentIntent>;
      try {
        found = await stripe.paymentIntents.search({ query: `metadata['order_id']:'${input.orderId}'` });
      } catch (error) {
        throw rejected(error);
      }
      for (const intent of found.data) {
        if (intent.status === "canceled") continue;
        if (intent.status === "succeeded") throw new GatewayRejectedError("ALREADY_CAPTURED", `stripe: ${intent.id} was captured`);
        await cancel(intent.id, `${input.idempotencyKey}:${intent.id}`);
      }
    },

    async refund(input) {
      try {
        const refund = await stripe.refunds.create({ payment_intent: input.reference, amount: Number(input.amount) }, { idempotencyKey: input.idempotencyKey });
        return { reference: refund.id };
      } catch (error) {
        throw rejected(error);
      }
    },
  };
}
