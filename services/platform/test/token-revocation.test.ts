// Disabled and deleted users lose access within seconds, in every service: identity's UserDisabled /
// UserDeleted reach each service's revocation list (platform), which refuses the subject's tokens
// issued before the event — also in a service started after it, and in identity itself.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import test from "ava";
import { cart, cartConfigSchema } from "@bazaar/cart";
import { grantFirstAdmin, identity, identityConfigSchema } from "@bazaar/identity";
import { CartService } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { createService, loadConfig, type RunningService } from "../src/index.ts";
import { bearer, dropServiceDatabase, eventually, passingInConsul, testEnv, uniqueName } from "../src/testing.ts";

test("a disabled user's token is refused within seconds by another service, also one started later; re-enabled, new tokens work", async (t) => {
  const names = { identity: uniqueName("identity"), cart: uniqueName("cart"), laterCart: uniqueName("cart") };
  const adminEmail = `admin@${names.identity}.test`;
  const running: RunningService[] = [];
  t.teardown(async () => {
    await Promise.all(running.map((s) => s.stop()));
    await Promise.all(Object.values(names).map((name) => dropServiceDatabase(name)));
  });
  const identityConfig = loadConfig(identityConfigSchema, testEnv);
  const identityDefinition = identity({ config: identityConfig, name: names.identity });
  const identityService = await createService(identityDefinition, { config: identityConfig, verifier: identityDefinition.verifier });
  running.push(identityService);
  const meshEnv = { ...testEnv, AUTH_JWKS_DISCOVERY: "true", IDENTITY_SERVICE_NAME: names.identity };
  const startCart = async (name: string) => {
    const config = loadConfig(cartConfigSchema, meshEnv);
    const service = await createService(cart({ config, name }), { config, upstreams: { catalog: uniqueName("catalog"), inventory: uniqueName("inventory") } });
    running.push(service);
    return service;
  };
  const cartService = await startCart(names.cart);
  await passingInConsul(names.identity);

  const identityClient = (token?: string) =>
    createClient(IdentityService, createGrpcTransport({ baseUrl: `http://${identityService.address}`, interceptors: token ? [bearer(token)] : [] }));
  const cartAt = (service: RunningService, token: string) =>
    createClient(CartService, createGrpcTransport({ baseUrl: `http://${service.address}`, interceptors: [bearer(token)] }));
  const signUp = async (email: string, password = `Tr0ub4dor-${uniqueName("pw")}`) => {
    const { user } = await identityClient().register({ email, password, displayName: "Test" });
    if (email === adminEmail) await grantFirstAdmin(identityService.runtime.database, email);
    const { tokens } = await identityClient().login({ email, password });
    return { userId: user!.id, email, password, token: tokens!.accessToken };
  };
  const admin = await signUp(adminEmail);
  const shopper = await signUp(`${uniqueName("shopper")}@example.com`);
  t.truthy((await cartAt(cartService, shopper.token).createCart({})).cart?.id, "the token works before");

  await identityClient(admin.token).disableUser({ userId: shopper.userId });
  const refused = await eventually(
    "cart refusing the disabled user's token",
    () =>
      cartAt(cartService, shopper.token)
        .createCart({})
        .then(
          () => undefined,
          (error: unknown) => ConnectError.from(error),
        ),
    10_000,
    100,
  );
  t.is(refused.code, Code.Unauthenticated);
  t.regex(refused.rawMessage, /revoked.*disabled/);
  // Identity itself refuses it too, and the user cannot sign in again nor refresh.
  t.is(ConnectError.from(await t.throwsAsync(identityClient(shopper.token).getUser({ userId: shopper.userId }))).code, Code.Unauthenticated);
  t.is(ConnectError.from(await t.throwsAsync(identityClient().login({ email: shopper.email, password: shopper.password }))).code, Code.PermissionDenied);

  // A service started after the event knows it from its first call (it read identity's recent history).
  const laterCart = await startCart(names.laterCart);
  const refusedLater = ConnectError.from(await t.throwsAsync(cartAt(laterCart, shopper.token).createCart({})));
  t.is(refusedLater.code, Code.Unauthenticated);

  // Re-enabled: the old token stays refused, a new sign-in works everywhere.
  await identityClient(admin.token).enableUser({ userId: shopper.userId });
  t.is(ConnectError.from(await t.throwsAsync(cartAt(cartService, shopper.token).createCart({}))).code, Code.Unauthenticated);
  const fresh = (await identityClient().login({ email: shopper.email, password: shopper.password })).tokens!.accessToken;
  t.truthy((await cartAt(cartService, fresh).createCart({})).cart?.id);
  t.truthy((await cartAt(laterCart, fresh).createCart({})).cart?.id);
});
