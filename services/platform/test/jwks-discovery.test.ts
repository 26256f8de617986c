// Identity's JWKS found through Consul (AUTH_JWKS_DISCOVERY): a service started before identity is
// restarted elsewhere, with a new signing key, keeps verifying freshly issued tokens — where a JWKS URL
// pinned to the first instance's port can no longer fetch the keys.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { decodeProtectedHeader } from "jose";
import test from "ava";
import { grantFirstAdmin, identity, identityConfigSchema } from "@bazaar/identity";
import { inventory as inventoryDefinition } from "@bazaar/inventory";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { createService, createTokenVerifier, loadConfig, platformConfigSchema, UnavailableError, type RunningService } from "../src/index.ts";
import { bearer, dropServiceDatabase, eventually, testEnv, uniqueName } from "../src/testing.ts";

const consulAddr = testEnv.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500";

async function passingPorts(name: string): Promise<number[]> {
  const response = await fetch(`http://${consulAddr}/v1/health/service/${name}?passing=true`);
  return response.ok ? ((await response.json()) as Array<{ Service: { Port: number } }>).map((e) => e.Service.Port).sort() : [];
}

test("a service started before identity moves to a new port with a new key verifies the new tokens through Consul", async (t) => {
  const names = { identity: uniqueName("identity"), inventory: uniqueName("inventory") };
  const adminEmail = `admin@${names.identity}.test`;
  const password = `Tr0ub4dor-${uniqueName("pw")}`;
  const running = new Set<RunningService>();
  t.teardown(async () => {
    await Promise.all([...running].map((s) => s.stop()));
    await Promise.all([dropServiceDatabase(names.identity), dropServiceDatabase(names.inventory)]);
  });
  const startIdentity = async () => {
    const config = loadConfig(identityConfigSchema, testEnv);
    const definition = identity({ config, name: names.identity });
    const service = await createService(definition, { config, verifier: definition.verifier });
    running.add(service);
    return service;
  };
  const identityAt = (service: RunningService) => createClient(IdentityService, createGrpcTransport({ baseUrl: `http://${service.address}` }));

  const first = await startIdentity();
  // No AUTH_JWKS_URL: inventory finds identity's JWKS through Consul, under identity's name.
  const inventoryConfig = loadConfig(platformConfigSchema, { ...testEnv, AUTH_JWKS_DISCOVERY: "true", IDENTITY_SERVICE_NAME: names.identity });
  const inventory = await createService(inventoryDefinition({ name: names.inventory }), { config: inventoryConfig });
  running.add(inventory);
  await eventually("identity and inventory passing in Consul", async () => (await passingPorts(names.identity)).length === 1 && (await passingPorts(names.inventory)).length === 1, 30_000);
  const stockWith = (token: string) =>
    createClient(InventoryService, createGrpcTransport({ baseUrl: `http://${inventory.address}`, interceptors: [bearer(token)] })).listStockMovements({ sku: uniqueName("SKU").toUpperCase() });

  await identityAt(first).register({ email: adminEmail, password, displayName: "Admin" });
  await grantFirstAdmin(first.runtime.database, adminEmail);
  const before = (await identityAt(first).login({ email: adminEmail, password })).tokens!.accessToken;
  await stockWith(before); // inventory has fetched the first instance's keys
  // What npm start used to hand every service: the first instance's address.
  const pinned = createTokenVerifier({ jwksUrl: `http://${first.address}/.well-known/jwks.json`, issuer: "bazaar-identity", audience: "bazaar", minRefetchIntervalMs: 0 });
  await pinned.verify(before);

  // A second instance (same database, another port); the first goes away; the key is rotated.
  const second = await startIdentity();
  t.not(second.port, first.port);
  await eventually("two identity instances passing", async () => (await passingPorts(names.identity)).length === 2, 30_000);
  await first.stop();
  running.delete(first);
  await eventually("only the second identity passing", async () => (await passingPorts(names.identity)).join() === String(second.port), 30_000);
  const { kid } = await createClient(IdentityService, createGrpcTransport({ baseUrl: `http://${second.address}`, interceptors: [bearer(before)] })).rotateSigningKey({});
  const after = (await identityAt(second).login({ email: adminEmail, password })).tokens!.accessToken;
  t.is(decodeProtectedHeader(after).kid, kid, "the new token is signed with a key inventory has never seen");

  // The verifier refetches the JWKS (after its refetch floor) from the instance Consul lists now.
  const level = await eventually(
    "inventory accepting the token signed with the new key",
    () => stockWith(after).catch((error: unknown) => (ConnectError.from(error).code === Code.Unauthenticated ? undefined : Promise.reject(error))),
    45_000,
    500,
  );
  t.truthy(level);
  // The pinned URL cannot: it still points at the port of an instance that is gone.
  await t.throwsAsync(pinned.verify(after), { instanceOf: UnavailableError });
});
