// Service tokens from identity: identityServiceCredentials as a plain function over an in-memory
// identity (caching, one request at a time, renewal, failures), and createService's default wiring in a
// real mesh — identity, inventory verifying identity's JWKS, and a service started before identity.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import test from "ava";
import { freePort } from "@bazaar/stack";
import { grantFirstAdmin, identity, identityConfigSchema } from "@bazaar/identity";
import { inventory as inventoryDefinition } from "@bazaar/inventory";
import { IdentityService, IssueServiceTokenResponseSchema } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { InventoryService, MovementReason } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import {
  createService,
  identityCredentialsFor,
  identityServiceCredentials,
  loadConfig,
  platformConfigSchema,
  runInCallContext,
  UnavailableError,
  type Database,
  type RunningService,
} from "../src/index.ts";
import { bearer, dropServiceDatabase, eventually, passingInConsul, testEnv, uniqueName } from "../src/testing.ts";

// ---- identityServiceCredentials over an in-memory identity -------------------------------------

/** An IssueServiceToken that answers from `answers` in turn (the last one repeats) and counts requests. */
function fakeIdentity(answers: Array<{ token: string; lifetimeMs: number } | Error>, gate?: Promise<void>) {
  const requests: Array<{ service: string; clientSecret: string }> = [];
  const transport = createRouterTransport((router) =>
    router.service(IdentityService, {
      async issueServiceToken(request) {
        requests.push({ service: request.service, clientSecret: request.clientSecret });
        await gate;
        const answer = answers[Math.min(requests.length - 1, answers.length - 1)]!;
        if (answer instanceof Error) throw answer;
        return create(IssueServiceTokenResponseSchema, {
          accessToken: answer.token,
          expireTime: timestampFromDate(new Date(Date.now() + answer.lifetimeMs)),
        });
      },
    }),
  );
  return { transport, requests };
}

test("concurrent callers share one IssueServiceToken request, and the token is reused while it is fresh", async (t) => {
  let open!: () => void;
  const identityService = fakeIdentity([{ token: "t1", lifetimeMs: 900_000 }], new Promise<void>((resolve) => (open = resolve)));
  const credentials = identityServiceCredentials({ service: "order", clientSecret: "s3cret-s3cret-s3cret", transport: identityService.transport });
  const waiting = Promise.all(Array.from({ length: 20 }, () => credentials.token()));
  open();
  t.deepEqual(new Set(await waiting), new Set(["t1"]));
  t.is(await credentials.token(), "t1");
  t.deepEqual(identityService.requests, [{ service: "order", clientSecret: "s3cret-s3cret-s3cret" }]);
});

test("a token about to expire is not handed out: the next caller waits for a renewed one", async (t) => {
  const identityService = fakeIdentity([
    { token: "short", lifetimeMs: 3_000 },
    { token: "long", lifetimeMs: 900_000 },
  ]);
  const credentials = identityServiceCredentials({ service: "order", clientSecret: "s3cret-s3cret-s3cret", transport: identityService.transport });
  t.is(await credentials.token(), "short");
  t.is(await credentials.token(), "long");
  t.is(await credentials.token(), "long");
  t.is(identityService.requests.length, 2);
});

test("identity refusing or failing becomes UnavailableError, and the next call after the pause asks again", async (t) => {
  const identityService = fakeIdentity([
    new ConnectError("unknown service or wrong client secret", Code.Unauthenticated),
    new ConnectError("down", Code.Unavailable),
    { token: "t1", lifetimeMs: 900_000 },
  ]);
  const credentials = identityServiceCredentials({
    service: "order",
    clientSecret: "s3cret-s3cret-s3cret",
    transport: identityService.transport,
    retryAfterFailureMs: 0,
  });
  const refused = await t.throwsAsync(credentials.token(), { instanceOf: UnavailableError });
  t.regex(refused!.message, /Unauthenticated/);
  await t.throwsAsync(credentials.token(), { instanceOf: UnavailableError });
  t.is(await credentials.token(), "t1");
  t.is(identityService.requests.length, 3);
});

test("within the pause after a failure, callers get that failure without another request", async (t) => {
  const identityService = fakeIdentity([new ConnectError("down", Code.Unavailable), { token: "t1", lifetimeMs: 900_000 }]);
  const credentials = identityServiceCredentials({
    service: "order",
    clientSecret: "s3cret-s3cret-s3cret",
    transport: identityService.transport,
    retryAfterFailureMs: 600_000,
  });
  await t.throwsAsync(credentials.token(), { instanceOf: UnavailableError });
  await t.throwsAsync(credentials.token(), { instanceOf: UnavailableError });
  t.is(identityService.requests.length, 1);
});

test("a client made on first use is made once, and not before", async (t) => {
  const identityService = fakeIdentity([{ token: "t1", lifetimeMs: 900_000 }]);
  let made = 0;
  const credentials = identityServiceCredentials({
    service: "order",
    clientSecret: "s3cret-s3cret-s3cret",
    client: () => (made++, createClient(IdentityService, identityService.transport)),
  });
  t.is(made, 0);
  await Promise.all([credentials.token(), credentials.token()]);
  await credentials.token();
  t.is(made, 1);
});

// ---- createService's default credentials in a real mesh ---------------------------------------

interface Mesh {
  names: { identity: string; inventory: string; checkout: string };
  /** What the mesh's services are configured with (identity's JWKS and Consul name). */
  env: NodeJS.ProcessEnv;
  checkout: RunningService;
  inventory: RunningService;
  admin: ReturnType<typeof createClient<typeof InventoryService>>;
  customerToken: string;
  customerId: string;
  stop(): Promise<void>;
}

let mesh: Mesh | undefined;

/** Registers and signs in; `firstAdminOf` makes the account that identity's first admin before signing in. */
async function signUp(identityUrl: string, email: string, firstAdminOf?: RunningService<Database>): Promise<{ token: string; userId: string }> {
  const client = createClient(IdentityService, createGrpcTransport({ baseUrl: identityUrl }));
  const password = `Tr0ub4dor-${uniqueName("pw")}`;
  const { user } = await client.register({ email, password, displayName: "Test" });
  if (firstAdminOf) await grantFirstAdmin(firstAdminOf.runtime.database, email);
  const { tokens } = await client.login({ email, password });
  return { token: tokens!.accessToken, userId: user!.id };
}


test.before(async () => {
  const names = { identity: uniqueName("identity"), inventory: uniqueName("inventory"), checkout: uniqueName("checkout") };
  const identityPort = await freePort();
  const meshEnv = {
    ...testEnv,
    AUTH_JWKS_URL: `http://127.0.0.1:${identityPort}/.well-known/jwks.json`,
    IDENTITY_SERVICE_NAME: names.identity,
  };
  const started: RunningService[] = [];
  const stop = async () => {
    await Promise.all(started.map((s) => s.stop()));
    await Promise.all([dropServiceDatabase(names.identity), dropServiceDatabase(names.inventory)]);
  };
  try {
    // A service of the mesh, with no serviceCredentials given, started before identity is up: it only
    // asks identity for a token when it first needs one.
    const checkout = await createService(
      // Plays the order service's checkout: its token's subject is "order", which may reserve stock.
      { name: names.checkout, identity: "order", setup: () => ({ routes: () => {} }) },
      { config: loadConfig(platformConfigSchema, meshEnv), upstreams: { inventory: names.inventory } },
    );
    started.push(checkout);

    const identityConfig = loadConfig(identityConfigSchema, { ...testEnv, PORT: String(identityPort) });
    const identityDefinition = identity({ config: identityConfig, name: names.identity });
    const identityService = await createService(identityDefinition, { config: identityConfig, verifier: identityDefinition.verifier });
    started.push(identityService);

    // Inventory verifies bearer tokens against identity's JWKS (no verifier given: AUTH_JWKS_URL).
    const inventory = await createService(inventoryDefinition({ name: names.inventory }), { config: loadConfig(platformConfigSchema, meshEnv) });
    started.push(inventory);

    // Calls go to passing instances only: wait for the first health checks.
    await Promise.all([names.identity, names.inventory].map((name) => passingInConsul(name)));
    const identityUrl = `http://${identityService.address}`;
    const admin = await signUp(identityUrl, `admin@${names.identity}.test`, identityService);
    const customer = await signUp(identityUrl, `${uniqueName("shopper")}@example.com`);
    mesh = {
      names,
      env: meshEnv,
      checkout,
      inventory,
      admin: createClient(InventoryService, createGrpcTransport({ baseUrl: `http://${inventory.address}`, interceptors: [bearer(admin.token)] })),
      customerToken: customer.token,
      customerId: customer.userId,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
});
test.after.always(async () => {
  await mesh?.stop();
});

test("a service started before identity reserves stock with identity's service token, even inside a customer's call, while the customer's own token is refused", async (t) => {
  const { names, checkout, admin, customerToken, customerId } = mesh!;
  const sku = uniqueName("SKU").toUpperCase();
  await admin.receiveStock({ sku, quantity: 5n });
  const lines = [{ sku, quantity: 2n }];

  // Outside any call: the service's own token.
  const own = await checkout.runtime.serviceClientFor(InventoryService).reserveStock({ reference: uniqueName("order"), lines });
  t.truthy(own.reservation?.id);

  // Inside a customer's call: serviceClientFor still sends the service's token; clientFor forwards
  // the customer's, which inventory refuses (customers do not reserve stock).
  const customerCall = { signal: new AbortController().signal, principal: { subject: customerId, roles: ["customer"], kind: "user" as const, token: customerToken } };
  const reference = uniqueName("order");
  const { reservation } = await runInCallContext(customerCall, () =>
    checkout.runtime.serviceClientFor(InventoryService).reserveStock({ reference, lines }),
  );
  t.is(reservation?.reference, reference);
  const refused = await t.throwsAsync(
    runInCallContext(customerCall, () => checkout.runtime.clientFor(InventoryService).reserveStock({ reference: uniqueName("order"), lines })),
  );
  t.is(ConnectError.from(refused).code, Code.PermissionDenied);
  const direct = createClient(InventoryService, createGrpcTransport({ baseUrl: `http://${mesh!.inventory.address}`, interceptors: [bearer(customerToken)] }));
  t.is(ConnectError.from(await t.throwsAsync(direct.reserveStock({ reference: uniqueName("order"), lines }))).code, Code.PermissionDenied);

  // The token's subject is the service's identity: inventory records it as the actor of a restock.
  const inventoryClient = checkout.runtime.serviceClientFor(InventoryService);
  await inventoryClient.commitReservation({ reservationId: reservation!.id });
  await inventoryClient.restockReservation({ reservationId: reservation!.id });
  const { movements } = await admin.listStockMovements({ sku });
  t.deepEqual(movements.filter((m) => m.reason === MovementReason.RETURNED).map((m) => m.actor), ["order"]);
  t.deepEqual(await admin.getStockLevel({ sku }).then((r) => r.stock?.available), 3n);
});

test("createService asks identity only for services with a client secret that verify identity's tokens, never for identity itself", (t) => {
  // Identity asking itself would recurse; without AUTH_JWKS_URL nothing in the mesh accepts identity's tokens.
  const config = loadConfig(platformConfigSchema, { ...testEnv, AUTH_JWKS_URL: "http://127.0.0.1:1/.well-known/jwks.json" });
  t.truthy(identityCredentialsFor("order", config));
  t.is(identityCredentialsFor("identity", config), undefined);
  t.is(identityCredentialsFor("order", loadConfig(platformConfigSchema, testEnv)), undefined);
  t.is(identityCredentialsFor("order", { ...config, SERVICE_CLIENT_SECRET: undefined }), undefined);
});

test("with a wrong client secret the service's own calls fail as unavailable instead of going out anonymous", async (t) => {
  const { names } = mesh!;
  const wrong = await createService(
    { name: uniqueName("checkout"), setup: () => ({ routes: () => {} }) },
    {
      config: loadConfig(platformConfigSchema, { ...mesh!.env, SERVICE_CLIENT_SECRET: "not-the-secret-of-anyone" }),
      upstreams: { inventory: names.inventory },
    },
  );
  t.teardown(() => wrong.stop().then(() => undefined));
  const failed = await t.throwsAsync(
    wrong.runtime.serviceClientFor(InventoryService).reserveStock({ reference: uniqueName("order"), lines: [{ sku: "nothing", quantity: 1n }] }),
  );
  // Anonymous, the unknown SKU would have been refused as unauthenticated (or invalid_argument).
  const error = ConnectError.from(failed);
  t.is(error.code, Code.Unavailable);
  t.regex(error.rawMessage, /no service token from identity .*Unauthenticated/);
});
