// Shared by the payment tests: a payment service started in-process on port 0 against the real
// PostgreSQL, NATS and Consul, typed clients with signed tokens, a count of the gateway's calls,
// direct database reads and the service's events as they arrive on JetStream.
import { randomUUID } from "node:crypto";
import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { PaymentService } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import {
  PaymentAuthorizedSchema,
  PaymentCapturedSchema,
  PaymentFailedSchema,
  PaymentRefundedSchema,
  PaymentVoidedSchema,
} from "@bazaar/contracts/bazaar/payment/v1/events_pb";
import pg from "pg";
import { createService, loadConfig, subjectFor, type RunningService } from "@bazaar/platform";
import { bearer, createTestSigner, dropServiceDatabase, readStream, serviceDatabaseUrl, testEnv, uniqueName, type TestSigner } from "@bazaar/platform/testing";
import { payment, paymentConfigSchema, type PaymentGateway } from "../src/index.ts";

export { eventually } from "@bazaar/platform/testing";

export const env: NodeJS.ProcessEnv = { ...testEnv, PAYMENT_TEST_SLOW_MS: "1500" };

export type GatewayOperation = "authorize" | "capture" | "void" | "refund";

export interface Harness {
  name: string;
  service: RunningService;
  signer: TestSigner;
  /** As the order saga (a service token), an admin, a plain customer, and anonymously. */
  saga: Client<typeof PaymentService>;
  admin: Client<typeof PaymentService>;
  customer: Client<typeof PaymentService>;
  anonymous: Client<typeof PaymentService>;
  baseUrl: string;
  /** Calls the service made to its gateway, by operation and idempotency key. */
  gatewayCalls(operation: GatewayOperation, key?: string): number;
  sql<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Stops the service and drops its database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra environment, e.g. PAYMENT_GATEWAY=stripe. */
  env?: Record<string, string>;
  /** Wraps the counted gateway (e.g. to fail after it answered). */
  wrapGateway?: (gateway: PaymentGateway) => PaymentGateway;
}

export async function startPayment(options: StartOptions = {}): Promise<Harness> {
  const name = uniqueName("payment");
  const signer = await createTestSigner();
  const calls: Array<{ operation: GatewayOperation; key: string }> = [];
  const counted = (gateway: PaymentGateway): PaymentGateway => ({
    name: gateway.name,
    authorize: (input) => (calls.push({ operation: "authorize", key: input.idempotencyKey }), gateway.authorize(input)),
    capture: (input) => (calls.push({ operation: "capture", key: input.idempotencyKey }), gateway.capture(input)),
    void: (input) => (calls.push({ operation: "void", key: input.idempotencyKey }), gateway.void(input)),
    refund: (input) => (calls.push({ operation: "refund", key: input.idempotencyKey }), gateway.refund(input)),
  });
  const config = loadConfig(paymentConfigSchema, { ...env, ...options.env });
  const service = await createService(
    payment({ config, name, wrapGateway: (gateway) => (options.wrapGateway ?? ((g) => g))(counted(gateway)) }),
    { config, verifier: signer.verifier },
  );
  const baseUrl = `http://${service.address}`;
  const clientWith = (token: string | undefined) => createClient(PaymentService, createGrpcTransport({ baseUrl, interceptors: [bearer(token)] }));
  const pool = new pg.Pool({ connectionString: serviceDatabaseUrl(name), max: 2 });
  return {
    name,
    service,
    signer,
    saga: clientWith(await signer.token({ subject: "order", service: true })),
    admin: clientWith(await signer.token({ subject: "admin-1", roles: ["customer", "admin"] })),
    customer: clientWith(await signer.token({ roles: ["customer"] })),
    anonymous: clientWith(undefined),
    baseUrl,
    gatewayCalls: (operation, key) => calls.filter((c) => c.operation === operation && (key === undefined || c.key === key)).length,
    sql: async (text, params = []) => (await pool.query(text, params)).rows,
    async stop() {
      await pool.end();
      await service.stop();
      await dropServiceDatabase(name);
    },
  };
}

export const newOrderId = () => randomUUID();
export const eur = (amountMinor: bigint) => ({ amountMinor, currencyCode: "EUR" });

export { failure } from "@bazaar/platform/testing";

/** The events of one type in the service's outbox for `orderId`, decoded, oldest first. */
export async function outboxEvents<Desc extends DescMessage>(harness: Harness, schema: Desc, orderId: string): Promise<MessageShape<Desc>[]> {
  const rows = await harness.sql<{ payload: Buffer }>("select payload from platform_outbox where type_name = $1 order by id", [schema.typeName]);
  return rows.map((row) => fromBinary(schema, row.payload)).filter((event) => (event as { orderId?: string }).orderId === orderId);
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
