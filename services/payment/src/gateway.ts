// What the payment service needs of a payment gateway (the built-in test gateway or Stripe). Every
// call carries an idempotency key derived from the order and the operation, so repeating a call — after
// a timeout, a crash or a lost answer — gets the first call's answer instead of moving money twice.

export type DeclineCode = "PAYMENT_DECLINED" | "INSUFFICIENT_FUNDS";

export interface AuthorizeInput {
  idempotencyKey: string;
  orderId: string;
  amount: bigint;
  currency: string;
  paymentMethod: string;
  /** The buyer's user id; empty for a guest. */
  customerId: string;
  /** For the gateway's receipt; may be empty. */
  email: string;
}

export type AuthorizeResult =
  | { outcome: "authorized"; reference: string }
  | { outcome: "declined"; code: DeclineCode; message: string; reference?: string }
  /** Accepted but not decided yet (e.g. Stripe "processing"); the answer comes later by webhook. */
  | { outcome: "pending"; reference: string };

export interface CaptureInput {
  reference: string;
  amount: bigint;
  idempotencyKey: string;
}

export interface VoidInput {
  /** The authorisation's reference, when the gateway's answer to it is known. */
  reference?: string | undefined;
  /** The key the authorisation was asked for with: voids it when its reference is not known (a crash before the answer was recorded). */
  authorizationKey: string;
  orderId: string;
  idempotencyKey: string;
}

export interface RefundInput {
  reference: string;
  amount: bigint;
  idempotencyKey: string;
}

export interface PaymentGateway {
  /** "test" or "stripe", recorded on each payment. */
  readonly name: "test" | "stripe";
  authorize(input: AuthorizeInput): Promise<AuthorizeResult>;
  capture(input: CaptureInput): Promise<void>;
  void(input: VoidInput): Promise<void>;
  refund(input: RefundInput): Promise<{ reference: string }>;
}

/** The gateway could not be reached or did not answer: nothing is known to have happened, and the same call may be repeated. */
export class GatewayUnavailableError extends Error {
  override name = "GatewayUnavailableError";
}

/** The gateway refused an operation on an existing authorisation (e.g. it expired); repeating it will not help. */
export class GatewayRejectedError extends Error {
  override name = "GatewayRejectedError";
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Idempotency keys: one per order and operation, one per refund id. */
export const gatewayKeys = {
  authorize: (orderId: string) => `order:${orderId}:authorize`,
  capture: (orderId: string) => `order:${orderId}:capture`,
  void: (orderId: string) => `order:${orderId}:void`,
  refund: (orderId: string, refundId: string) => `refund:${orderId}:${refundId}`,
};
