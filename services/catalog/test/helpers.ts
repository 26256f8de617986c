// Starts the catalog in-process (port 0, a unique name, its own database) with a token verifier of
// keys made here, and gives typed gRPC clients for an anonymous caller, a user and an admin.
import { randomBytes, randomUUID } from "node:crypto";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import pg from "pg";
import { createService, createTokenVerifier, loadConfig, platformConfigSchema, type RunningService } from "@bazaar/platform";
import { CatalogService } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { catalog } from "../src/server.ts";

export const env: NodeJS.ProcessEnv = { ...process.env, BAZAAR_ENV: "development", LOG_LEVEL: process.env.CATALOG_TEST_LOG_LEVEL ?? "silent", SHUTDOWN_GRACE_MS: "3000" };
export const uniqueName = (prefix = "catalog") => `${prefix}-${randomBytes(4).toString("hex")}`;

const kid = "catalog-test";
const keys = generateKeyPair("EdDSA").then(async ({ privateKey, publicKey }) => ({ privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" } }));

export async function token(subject: string, roles: string[]): Promise<string> {
  const { privateKey } = await keys;
  return new SignJWT({ roles })
    .setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt" })
    .setIssuer("bazaar-identity")
    .setAudience("bazaar")
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime("10m")
    .setJti(randomUUID())
    .sign(privateKey);
}

export async function dropDatabase(name: string) {
  const admin = new pg.Client({ connectionString: env.DATABASE_URL });
  await admin.connect();
  await admin.query(`drop database if exists "bazaar_${name.replaceAll("-", "_")}" with (force)`);
  await admin.end();
}

export interface Harness {
  name: string;
  service: RunningService;
  anonymous: Client<typeof CatalogService>;
  admin: Client<typeof CatalogService>;
  /** A client signed in as `userId` (a new user when omitted). */
  user(userId?: string): Promise<Client<typeof CatalogService>>;
}

const bearer = (value: string): Interceptor => (next) => (req) => {
  req.header.set("authorization", `Bearer ${value}`);
  return next(req);
};

export async function startCatalog(t: { teardown(fn: () => Promise<void> | void): void }, options: { followStock?: boolean } = {}): Promise<Harness> {
  const name = uniqueName();
  const { publicJwk } = await keys;
  const verifier = createTokenVerifier({ jwks: { keys: [publicJwk] }, issuer: "bazaar-identity", audience: "bazaar" });
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

export async function eventually(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
