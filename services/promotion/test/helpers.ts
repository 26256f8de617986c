// Shared by the promotion tests: a promotion service started in-process on port 0 against the real
// PostgreSQL, NATS and Consul, typed clients with signed tokens for each kind of caller, direct
// database reads, and builders of promotions.
import { randomUUID } from "node:crypto";
import { create, fromBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { PromotionSchema, PromotionService, type Promotion } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { createService, loadConfig, type RunningService } from "@bazaar/platform";
import { bearer, createTestSigner, dropServiceDatabase, serviceDatabaseUrl, testEnv, uniqueName, type TestSigner } from "@bazaar/platform/testing";
import { promotion, promotionConfigSchema } from "../src/index.ts";

export { eventually, failure } from "@bazaar/platform/testing";

export interface Harness {
  name: string;
  service: RunningService;
  signer: TestSigner;
  /** As an admin (staff), the cart (evaluates), the order saga (redeems and releases), a plain customer, and anonymously. */
  admin: Client<typeof PromotionService>;
  cart: Client<typeof PromotionService>;
  saga: Client<typeof PromotionService>;
  customer: Client<typeof PromotionService>;
  anonymous: Client<typeof PromotionService>;
  sql<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export async function startPromotion(options: { followOrders?: boolean } = {}): Promise<Harness> {
  const name = uniqueName("promotion");
  const signer = await createTestSigner();
  const config = loadConfig(promotionConfigSchema, { ...testEnv, DB_POOL_SIZE: "4" });
  const service = await createService(promotion({ config, name, followOrders: options.followOrders ?? false }), { config, verifier: signer.verifier });
  const clientWith = (token: string | undefined) =>
    createClient(PromotionService, createGrpcTransport({ baseUrl: `http://${service.address}`, interceptors: [bearer(token)] }));
  const pool = new pg.Pool({ connectionString: serviceDatabaseUrl(name), max: 2 });
  return {
    name,
    service,
    signer,
    admin: clientWith(await signer.token({ subject: randomUUID(), roles: ["customer", "admin"] })),
    cart: clientWith(await signer.token({ subject: "cart", service: true })),
    saga: clientWith(await signer.token({ subject: "order", service: true })),
    customer: clientWith(await signer.token({ roles: ["customer"] })),
    anonymous: clientWith(undefined),
    sql: async (text, params = []) => (await pool.query(text, params)).rows,
    async stop() {
      await pool.end();
      await service.stop();
      await dropServiceDatabase(name);
    },
  };
}

export const eur = (amountMinor: bigint) => ({ amountMinor, currencyCode: "EUR" });

/** A promotion message: 10 % off every cart by default, with `overrides`. */
export function promotionSpec(overrides: MessageInitShape<typeof PromotionSchema> = {}): Promotion {
  const base: MessageInitShape<typeof PromotionSchema> = {
    name: "10 % off everything",
    automatic: false,
    conditions: { everything: true },
    action: { kind: { case: "orderPercentOff", value: { percentBps: 1000 } } },
  };
  return create(PromotionSchema, { ...base, ...overrides } as MessageInitShape<typeof PromotionSchema>);
}

/** A unique code for a test. */
export const newCode = (prefix = "T") => `${prefix}${randomUUID().slice(0, 8).toUpperCase()}`;

/** The events of one type in the service's outbox, decoded, oldest first. */
export async function outboxEvents<Desc extends DescMessage>(harness: Harness, schema: Desc): Promise<MessageShape<Desc>[]> {
  const rows = await harness.sql<{ payload: Buffer }>("select payload from platform_outbox where type_name = $1 order by id", [schema.typeName]);
  return rows.map((row) => fromBinary(schema, row.payload));
}

/** A cart line for EvaluateCart. */
export const line = (sku: string, quantity: number, unitPrice: bigint, categoryIds: string[] = []) => ({ sku, productId: randomUUID(), categoryIds, quantity, unitPrice });
