// Starts the catalog in-process (port 0, a unique name, its own database) with a token verifier of
// keys made here, and gives typed gRPC clients for an anonymous caller, a user and an admin.
import { randomUUID } from "node:crypto";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createService, loadConfig, platformConfigSchema, type Database, type RunningService } from "@bazaar/platform";
import { bearer, createTestSigner, dropServiceDatabase, testEnv, uniqueName as makeUniqueName } from "@bazaar/platform/testing";
export { eventually } from "@bazaar/platform/testing";
import { CatalogService } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { catalog } from "../src/server.ts";

export const env: NodeJS.ProcessEnv = testEnv;
export const uniqueName = (prefix = "catalog") => makeUniqueName(prefix);
export const dropDatabase = (name: string) => dropServiceDatabase(name);

const signer = createTestSigner();

/** A service token of `service` (e.g. "identity"), as the mesh's services present. */
export async function serviceToken(service: string): Promise<string> {
  return (await signer).token({ subject: service, service: true });
}

export async function token(subject: string, roles: string[]): Promise<string> {
  return (await signer).token({ subject, roles });
}

export interface Harness {
  name: string;
  service: RunningService<Database>;
  anonymous: Client<typeof CatalogService>;
  admin: Client<typeof CatalogService>;
  /** A client signed in as `userId` (a new user when omitted). */
  user(userId?: string): Promise<Client<typeof CatalogService>>;
}

export async function startCatalog(t: { teardown(fn: () => Promise<void> | void): void }, options: { followStock?: boolean } = {}): Promise<Harness> {
  const name = uniqueName();
  const { verifier } = await signer;
  const service = await createService(catalog({ name, followStock: options.followStock ?? false }), { config: loadConfig(platformConfigSchema, env), verifier });
  t.teardown(async () => {
    await service.stop();
    await dropDatabase(name);
  });
  const clientWith = (interceptors: Interceptor[]) =>
    createClient(CatalogService, createGrpcTransport({ baseUrl: `http://${service.address}`, interceptors }));
  const adminToken = await token(randomUUID(), ["admin"]);
  return {
    name,
    service,
    anonymous: clientWith([]),
    admin: clientWith([bearer(adminToken)]),
    user: async (userId = randomUUID()) => clientWith([bearer(await token(userId, ["customer"]))]),
  };
}
