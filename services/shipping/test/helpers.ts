// Shared by the shipping tests: a shipping service started in-process on port 0 against the real
// PostgreSQL, NATS and Consul, typed clients with signed tokens for each kind of caller, and direct
// reads of its database.
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { ShippingService } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import { createService, loadConfig, type Database, type RunningService } from "@bazaar/platform";
import { bearer, createTestSigner, dropServiceDatabase, perFile, serviceDatabaseUrl, testEnv, uniqueName, type FileHooks, type TestSigner } from "@bazaar/platform/testing";
import { seedShipping, shipping, shippingConfigSchema } from "../src/index.ts";

export { failure, eventually } from "@bazaar/platform/testing";

export interface Harness {
  name: string;
  service: RunningService<Database>;
  database: Database;
  signer: TestSigner;
  admin: Client<typeof ShippingService>;
  /** As the cart service calls it (quotes). */
  service_: Client<typeof ShippingService>;
  /** As the returns service calls it (return labels). */
  returns: Client<typeof ShippingService>;
  customer: Client<typeof ShippingService>;
  anonymous: Client<typeof ShippingService>;
  sql<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export async function startShipping(teardown: (fn: () => Promise<void> | void) => void, env: Record<string, string> = {}, options: { seed?: boolean } = {}): Promise<Harness> {
  const name = uniqueName("shipping");
  const signer = await createTestSigner();
  // The default zones only when asked: most tests zone their own countries.
  const config = loadConfig(shippingConfigSchema, { ...testEnv, DB_POOL_SIZE: "3", SHIPPING_SEED_DEFAULTS: "false", ...env });
  const service = await createService(shipping({ config, name }), { config, verifier: signer.verifier });
  if (options.seed) await seedShipping(service.runtime.database);
  const pool = new pg.Pool({ connectionString: serviceDatabaseUrl(name), max: 2 });
  teardown(async () => {
    await pool.end();
    await service.stop();
    await dropServiceDatabase(name);
  });
  const clientWith = (token: string | undefined) =>
    createClient(ShippingService, createGrpcTransport({ baseUrl: `http://${service.address}`, interceptors: [bearer(token)] }));
  return {
    name,
    service,
    database: service.runtime.database,
    signer,
    admin: clientWith(await signer.token({ subject: "admin-1", roles: ["customer", "admin"] })),
    service_: clientWith(await signer.token({ subject: "cart", service: true })),
    returns: clientWith(await signer.token({ subject: "returns", service: true })),
    customer: clientWith(await signer.token({ roles: ["customer"] })),
    anonymous: clientWith(undefined),
    sql: async (text, params = []) => (await pool.query(text, params)).rows,
  };
}

/** One shipping service shared by the tests of a file (`seed`: with the default zones and methods). */
export const shippingPerFile = (test: FileHooks, env: Record<string, string> = {}, options: { seed?: boolean } = {}): (() => Harness) =>
  perFile(test, (teardown) => startShipping(teardown, env, options));

let counter = 0;
/** A country code unused by the other tests of a file run (each test zones its own countries). */
export function freshCountries(n: number): string[] {
  const pool = ["AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AW", "AX", "AZ", "BA", "BB", "BD", "BF", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX"];
  const picked = pool.slice(counter, counter + n);
  counter += n;
  if (picked.length < n) throw new Error("freshCountries: out of countries");
  return picked;
}
