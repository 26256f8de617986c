// Shared by the payment tests: a payment service started in-process on port 0 against the real
// PostgreSQL, NATS and Consul, typed clients with signed tokens, a count of the gateway's calls,
// direct database reads and the service's events as they arrive on JetStream.
import { randomUUID } from "node:crypto";
import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { PaymentService } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import {
  PaymentAuthorizedSchema,
  PaymentCapturedSchema,
  PaymentFailedSchema,
  PaymentRefundedSchema,
  PaymentVoidedSchema,
} from "@bazaar/contracts/bazaar/payment/v1/events_pb";
import { subjectFor } from "@bazaar/platform";
import { readStream, startTestService, testEnv, type TestService } from "@bazaar/platform/testing";
import { payment, paymentConfigSchema, type PaymentConfig, type PaymentGateway } from "../src/index.ts";

export { eventually } from "@bazaar/platform/testing";

export const env: NodeJS.ProcessEnv = { ...testEnv, PAYMENT_TEST_SLOW_MS: "1500" };

export type GatewayOperation = "authorize" | "capture" | "void" | "refund";

export type Harness = TestService<typeof PaymentService> & {
  /** As the order saga calls it: a service token. */
  saga: Client<typeof PaymentService>;
  /** Calls the service made to its gateway, by operation and idempotency key. */
  gatewayCalls(operation: GatewayOperation, key?: string): number;
};

export interface StartOptions {
  /** Extra environment, e.g. PAYMENT_GATEWAY=stripe. */
  env?: Record<string, string>;
  /** Wraps the counted gateway (e.g. to fail after it answered). */
  wrapGateway?: (gateway: PaymentGateway) => PaymentGateway;
}

export async function startPayment(options: StartOptions = {}): Promise<Harness> {
  const calls: Array<{ operation: GatewayOperation; key: string }> = [];
  const counted = (gateway: PaymentGateway): PaymentGateway => ({
    name: gateway.name,
    authorize: (input) => (calls.push({ operation: "authorize", key: input.idempotencyKey }), gateway.authorize(input)),
    capture: (input) => (calls.push({ operation: "capture", key: input.idempotencyKey }), gateway.capture(input)),
    void: (input) => (calls.push({ operation: "void", key: input.idempotencyKey }), gateway.void(input)),
    refund: (input) => (calls.push({ operation: "refund", key: input.idempotencyKey }), gateway.refund(input)),
  });
  const harness = await startTestService({
    contract: PaymentService,
    prefix: "payment",
    peerSubject: "order",
    configSchema: paymentConfigSchema,
    env: { ...env, ...options.env } as Record<string, string>,
    define: (name, config: PaymentConfig) => payment({ config, name, wrapGateway: (gateway) => (options.wrapGateway ?? ((g) => g))(counted(gateway)) }),
  });
  return {
    ...harness,
    saga: harness.peer,
    gatewayCalls: (operation, key) => calls.filter((c) => c.operation === operation && (key === undefined || c.key === key)).length,
  };
}

export const newOrderId = () => randomUUID();
export const eur = (amountMinor: bigint) => ({ amountMinor, currencyCode: "EUR" });

export { failure } from "@bazaar/platform/testing";

/** The events of one type in the service's outbox for `orderId`, decoded, oldest first. */
export async function outboxEvents<Desc extends DescMessage>(harness: Harness, schema: Desc, orderId: string): Promise<MessageShape<Desc>[]> {
  return (await harness.outbox(schema)).filter((event) => (event as { orderId?: string }).orderId === orderId);
}

const eventSchemas = [PaymentAuthorizedSchema, PaymentCapturedSchema, PaymentFailedSchema, PaymentRefundedSchema, PaymentVoidedSchema];
const schemaBySubject = new Map<string, DescMessage>(eventSchemas.map((schema) => [subjectFor(schema.typeName), schema]));

export interface ReceivedEvent {
  subject: string;
  /** Nats-Msg-Id. */
  messageId: string;
  event: MessageShape<(typeof eventSchemas)[number]>;
}

/**
 * Reads BAZAAR_PAYMENT from `since` until `count` events of `orderId` have arrived (other tests'
 * events are skipped), or fails after `timeoutMs`.
 */
export async function jetStreamEvents(orderId: string, count: number, since: Date, timeoutMs = 30_000): Promise<ReceivedEvent[]> {
  return readStream({
    stream: "BAZAAR_PAYMENT",
    subject: "bazaar.payment.>",
    since,
    count,
    timeoutMs,
    what: `${count} payment events of order ${orderId}`,
    pick: ({ subject, data, msgId }) => {
      const schema = schemaBySubject.get(subject);
      if (!schema) return undefined;
      const event = fromBinary(schema, data) as ReceivedEvent["event"];
      return event.orderId === orderId ? { subject, messageId: msgId, event } : undefined;
    },
  });
}
