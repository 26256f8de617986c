// Shared by the inventory tests: an inventory service started in-process on port 0 against the real
// PostgreSQL, NATS and Consul, typed clients with signed tokens, and direct database reads.
import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { createService, loadConfig, platformConfigSchema, type RunningService } from "@bazaar/platform";
import { bearer, createTestSigner, dropServiceDatabase, serviceDatabaseUrl, testEnv, uniqueName, type TestSigner } from "@bazaar/platform/testing";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { inventoryService, type InventoryOptions } from "../src/index.ts";

export const env: NodeJS.ProcessEnv = testEnv;

export const unique = (prefix: string) => uniqueName(prefix);
/** A unique SKU in the catalog's format (upper case). */
export const uniqueSku = (prefix = "SKU") => uniqueName(prefix).toUpperCase();

export type Signer = TestSigner;
export const createSigner = createTestSigner;

export interface Harness {
  name: string;
  service: RunningService;
  signer: Signer;
  /** Clients as an admin, as a service (e.g. checkout), as a plain customer and anonymously. */
  admin: Client<typeof InventoryService>;
  checkout: Client<typeof InventoryService>;
  customer: Client<typeof InventoryService>;
  anonymous: Client<typeof InventoryService>;
  /** A client with this bearer token (undefined: none). */
  clientWith(token: string | undefined): Client<typeof InventoryService>;
  sql<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Stops the service and drops its database. */
  stop(): Promise<void>;
  /** Stops the service, keeping the database (for a second instance sharing it). */
  stopInstance(): Promise<void>;
}

export async function startInventory(deps: Omit<InventoryOptions, "name"> & { name?: string } = {}): Promise<Harness> {
  const name = deps.name ?? unique("inventory");
  const signer = await createSigner();
  const service = await createService(inventoryService({ sweepIntervalMs: 200, ...deps, name }), {
    config: loadConfig(platformConfigSchema, env),
    verifier: signer.verifier,
  });
  const baseUrl = `http://${service.address}`;
  const clientWith = (token: string | undefined) =>
    createClient(InventoryService, createGrpcTransport({ baseUrl, interceptors: [bearer(token)] }));
  const pool = new pg.Pool({ connectionString: dbUrl(name), max: 2 });
  return {
    name,
    service,
    signer,
    admin: clientWith(await signer.token({ subject: "admin-1", roles: ["admin"] })),
    checkout: clientWith(await signer.token({ subject: "checkout", service: true })),
    customer: clientWith(await signer.token({ subject: "user-1", roles: ["customer"] })),
    anonymous: clientWith(undefined),
    clientWith,
    sql: async (text, params = []) => (await pool.query(text, params)).rows,
    async stopInstance() {
      await pool.end();
      await service.stop();
    },
    async stop() {
      await pool.end();
      await service.stop();
      await dropDatabase(name);
    },
  };
}

export const dbUrl = (name: string) => serviceDatabaseUrl(name);
export const dropDatabase = (name: string) => dropServiceDatabase(name);
export { eventually } from "@bazaar/platform/testing";

/** The events of one type the service wrote to its outbox, decoded, oldest first. */
export async function outboxEvents<Desc extends DescMessage>(harness: Harness, schema: Desc): Promise<MessageShape<Desc>[]> {
  const rows = await harness.sql<{ payload: Buffer }>("select payload from platform_outbox where type_name = $1 order by id", [schema.typeName]);
  return rows.map((row) => fromBinary(schema, row.payload));
}

/** Stock of one SKU at one location, read straight from the database. */
export async function levelOf(harness: Harness, sku: string, location = "default") {
  const [row] = await harness.sql<{ on_hand: string; reserved: string }>("select on_hand, reserved from stock_level where sku = $1 and location = $2", [
    sku,
    location,
  ]);
  return row ? { onHand: Number(row.on_hand), reserved: Number(row.reserved) } : undefined;
}

export { failure } from "@bazaar/platform/testing";
