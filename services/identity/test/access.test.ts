// Who may reach what, through a real identity service: BOLA over gRPC and over Connect JSON, the
// admin-only RPCs, addresses, and the slow-down of failed sign-ins.
import { Code, ConnectError } from "@connectrpc/connect";
import test from "ava";
import { UserDisabledSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { Role } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { BadRequestSchema, RetryInfoSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { randomIp, signedUpUser, startIdentity, unique, type StartedIdentity } from "./helpers.ts";

let identity: StartedIdentity;
test.before(async () => {
  identity = await startIdentity({ IDENTITY_LOGIN_FREE_FAILURES_PER_ACCOUNT: "3", IDENTITY_LOGIN_FREE_FAILURES_PER_ADDRESS: "6" });
});
test.after.always(() => identity?.stop());

const codeOf = (error: unknown) => ConnectError.from(error).code;
const fieldsOf = (error: unknown) => ConnectError.from(error).findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field));
const address = { recipientName: "Grace Hopper", line1: "Main Street 1", city: "Berlin", postalCode: "10115", countryCode: "DE" };

test("BOLA over gRPC: user A can neither read nor change user B's profile, addresses or sessions", async (t) => {
  const a = await signedUpUser(identity);
  const b = await signedUpUser(identity);
  const { address: bAddress } = await b.client.createAddress({ userId: b.userId, address });
  const attempts: Array<[string, () => Promise<unknown>]> = [
    ["GetUser", () => a.client.getUser({ userId: b.userId })],
    ["UpdateUser", () => a.client.updateUser({ user: { id: b.userId, displayName: "pwned" }, updateMask: { paths: ["display_name"] } })],
    ["DeleteUser", () => a.client.deleteUser({ userId: b.userId, password: a.password })],
    ["ListAddresses", () => a.client.listAddresses({ userId: b.userId })],
    ["CreateAddress", () => a.client.createAddress({ userId: b.userId, address })],
    ["UpdateAddress", () => a.client.updateAddress({ address: { ...bAddress!, city: "Elsewhere" }, updateMask: { paths: ["city"] } })],
    ["UpdateAddress under A's id", () => a.client.updateAddress({ address: { ...bAddress!, userId: a.userId, city: "Elsewhere" }, updateMask: { paths: ["city"] } })],
    ["DeleteAddress", () => a.client.deleteAddress({ userId: b.userId, addressId: bAddress!.id })],
    ["DeleteAddress under A's id", () => a.client.deleteAddress({ userId: a.userId, addressId: bAddress!.id })],
    ["ListSessions", () => a.client.listSessions({ userId: b.userId })],
    ["RevokeSession", () => a.client.revokeSession({ userId: b.userId, sessionId: b.tokens.sessionId })],
    ["RevokeSession under A's id", () => a.client.revokeSession({ userId: a.userId, sessionId: b.tokens.sessionId })],
  ];
  for (const [what, attempt] of attempts) t.is(codeOf(await t.throwsAsync(attempt(), undefined, what)), Code.NotFound, what);
  const anonymous = identity.client();
  t.is(codeOf(await t.throwsAsync(anonymous.getUser({ userId: b.userId }))), Code.Unauthenticated);

  // Nothing of B's changed.
  t.is((await b.client.getUser({ userId: b.userId })).user?.displayName, "Test Shopper");
  const [kept] = (await b.client.listAddresses({ userId: b.userId })).addresses;
  t.is(kept?.city, "Berlin");
  t.is((await b.client.listSessions({ userId: b.userId })).sessions.length, 1);
});

test("BOLA over Connect JSON: user A's token reaches none of user B's things, B's own does", async (t) => {
  const a = await signedUpUser(identity);
  const b = await signedUpUser(identity);
  await b.client.createAddress({ userId: b.userId, address });
  for (const method of ["GetUser", "ListAddresses", "ListSessions"]) {
    const denied = await identity.json(method, { userId: b.userId }, a.tokens.accessToken);
    t.is(denied.status, 404, method);
    t.is(denied.body.code, "not_found", method);
    const own = await identity.json(method, { userId: b.userId }, b.tokens.accessToken);
    t.is(own.status, 200, method);
  }
  const update = await identity.json("UpdateUser", { user: { id: b.userId, displayName: "pwned" }, updateMask: "displayName" }, a.tokens.accessToken);
  t.is(update.body.code, "not_found");
  const create = await identity.json("CreateAddress", { userId: b.userId, address }, a.tokens.accessToken);
  t.is(create.body.code, "not_found");
  const own = await identity.json("GetUser", { userId: b.userId }, b.tokens.accessToken);
  t.is((own.body.user as { displayName: string }).displayName, "Test Shopper");
  t.is(((await identity.json("ListAddresses", { userId: b.userId }, b.tokens.accessToken)).body.addresses as unknown[]).length, 1);
  const anonymous = await identity.json("GetUser", { userId: b.userId });
  t.is(anonymous.status, 401);
});

test("admin-only RPCs are refused to customers and work for the configured first admin", async (t) => {
  const customer = await signedUpUser(identity);
  const target = await signedUpUser(identity);
  const adminOnly: Array<[string, () => Promise<unknown>]> = [
    ["ListUsers", () => customer.client.listUsers({})],
    ["SetUserRoles", () => customer.client.setUserRoles({ userId: customer.userId, roles: [Role.ADMIN] })],
    ["DisableUser", () => customer.client.disableUser({ userId: target.userId })],
    ["EnableUser", () => customer.client.enableUser({ userId: target.userId })],
    ["RotateSigningKey", () => customer.client.rotateSigningKey({})],
  ];
  for (const [what, call] of adminOnly) t.is(codeOf(await t.throwsAsync(call(), undefined, what)), Code.PermissionDenied, what);
  t.deepEqual((await customer.client.getUser({ userId: customer.userId })).user?.roles, [Role.CUSTOMER], "no role was gained");
  t.is((await identity.json("ListUsers", {}, customer.tokens.accessToken)).body.code, "permission_denied");

  const admin = await signedUpUser(identity, { admin: true });
  t.deepEqual((await admin.client.getUser({ userId: admin.userId })).user?.roles, [Role.CUSTOMER, Role.ADMIN]);
  const found = await admin.client.listUsers({ query: target.email.toUpperCase() });
  t.deepEqual(found.users.map((u) => u.id), [target.userId]);
  t.is((await admin.client.getUser({ userId: target.userId })).user?.email, target.email, "admins reach any profile");

  const paged = await admin.client.listUsers({ pageSize: 1 });
  t.is(paged.users.length, 1);
  t.truthy(paged.nextPageToken);
  t.not((await admin.client.listUsers({ pageSize: 1, pageToken: paged.nextPageToken })).users[0]?.id, paged.users[0]?.id);
  for (const [what, pageToken, query] of [
    ["a token of another query", paged.nextPageToken, "someone"],
    ["a forged token", Buffer.from("00000000-0000-0000-0000-000000000000").toString("base64url"), ""],
  ] as const) {
    const refused = await t.throwsAsync(admin.client.listUsers({ pageSize: 1, pageToken, query }), undefined, what);
    t.is(codeOf(refused), Code.InvalidArgument, what);
    t.deepEqual(fieldsOf(refused), ["page_token"], what);
  }

  const disabled = await admin.client.disableUser({ userId: target.userId });
  t.true(disabled.user?.disabled);
  t.truthy((await identity.events(UserDisabledSchema)).find((e) => e.userId === target.userId && e.disabledBy === admin.userId));
  t.is(codeOf(await t.throwsAsync(identity.client().login({ email: target.email, password: target.password }))), Code.PermissionDenied);
  // As the contract says, and as Login answers: the refresh token is genuine, the account is what refuses it.
  for (const attempt of ["first", "second"]) {
    const refused = ConnectError.from(await t.throwsAsync(identity.client().refreshToken({ refreshToken: target.tokens.refreshToken })));
    t.is(refused.code, Code.PermissionDenied, `${attempt} refresh of a disabled account`);
    t.regex(refused.rawMessage, /disabled/);
  }
  await admin.client.enableUser({ userId: target.userId });
  t.truthy((await identity.client().login({ email: target.email, password: target.password })).tokens);
  // Enabling does not bring the revoked sessions back: their refresh tokens stay dead.
  t.is(codeOf(await t.throwsAsync(identity.client().refreshToken({ refreshToken: target.tokens.refreshToken }))), Code.Unauthenticated, "sessions were revoked");

  await admin.client.setUserRoles({ userId: target.userId, roles: [Role.CUSTOMER, Role.ADMIN] });
  const promoted = (await identity.client().login({ email: target.email, password: target.password })).tokens!;
  t.truthy(await identity.client({ token: promoted.accessToken }).listUsers({ pageSize: 1 }), "the new role is in the next token");
  t.is(codeOf(await t.throwsAsync(admin.client.disableUser({ userId: admin.userId }))), Code.FailedPrecondition);
  const bad = await t.throwsAsync(admin.client.setUserRoles({ userId: target.userId, roles: [Role.UNSPECIFIED] }));
  t.deepEqual(fieldsOf(bad), ["roles[0]"]);
});

test("failed sign-ins slow down per account and per client address, with the same error for unknown emails", async (t) => {
  const user = await signedUpUser(identity);
  // Per account: 3 free failures, from different addresses, then a wait.
  for (let i = 0; i < 3; i++) {
    t.is(codeOf(await t.throwsAsync(identity.client().login({ email: user.email, password: "wrong-password-1" }))), Code.Unauthenticated);
  }
  const throttled = ConnectError.from(await t.throwsAsync(identity.client().login({ email: user.email, password: user.password })));
  t.is(throttled.code, Code.ResourceExhausted, "even the right password waits");
  const retry = throttled.findDetails(RetryInfoSchema)[0];
  t.true(Number(retry?.retryDelay?.nanos ?? 0) > 0 || Number(retry?.retryDelay?.seconds ?? 0) > 0);
  // The delay grows: once it has passed (the last failure moved 1.5 s into the past), one more failure doubles it.
  await identity.sql("update login_failures set last_failure_at = last_failure_at - interval '1.5 seconds' where key = ?", [`account:${user.email}`]);
  t.is(codeOf(await t.throwsAsync(identity.client().login({ email: user.email, password: "wrong-password-2" }))), Code.Unauthenticated);
  const longer = ConnectError.from(await t.throwsAsync(identity.client().login({ email: user.email, password: user.password })));
  t.is(longer.code, Code.ResourceExhausted);
  t.true(Number(longer.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds ?? 0) >= 1, "the second delay is longer than a second");

  // Per client address: guesses spread over many accounts from one address.
  const ip = randomIp();
  const fromOneAddress = identity.client({ ip });
  const unknown = ConnectError.from(await t.throwsAsync(fromOneAddress.login({ email: `${unique("nobody")}@example.com`, password: "whatever-pass" })));
  const wrong = ConnectError.from(await t.throwsAsync(identity.client().login({ email: (await signedUpUser(identity)).email, password: "whatever-pass" })));
  t.is(unknown.code, Code.Unauthenticated);
  t.is(unknown.rawMessage, wrong.rawMessage, "unknown email and wrong password look the same");
  for (let i = 0; i < 5; i++) await t.throwsAsync(fromOneAddress.login({ email: `${unique("nobody")}@example.com`, password: "whatever-pass" }));
  const blocked = await t.throwsAsync(fromOneAddress.login({ email: `${unique("fresh")}@example.com`, password: "whatever-pass" }));
  t.is(codeOf(blocked), Code.ResourceExhausted);
  const other = await signedUpUser(identity);
  t.truthy((await identity.client().login({ email: other.email, password: other.password })).tokens, "other addresses are not affected");
});

test("addresses: create, list, update, delete, one default each, validated fields", async (t) => {
  const user = await signedUpUser(identity);
  const first = (await user.client.createAddress({ userId: user.userId, address })).address!;
  t.true(first.defaultShipping && first.defaultBilling, "the first address is the default");
  const second = (await user.client.createAddress({ userId: user.userId, address: { ...address, line1: "Second St 2", countryCode: "fr", defaultShipping: true } })).address!;
  t.is(second.countryCode, "FR");
  let list = (await user.client.listAddresses({ userId: user.userId })).addresses;
  t.deepEqual(list.map((a) => [a.defaultShipping, a.defaultBilling]), [[false, true], [true, false]]);

  const updated = (await user.client.updateAddress({ address: { ...first, postalCode: "10117", defaultShipping: true }, updateMask: { paths: ["postal_code", "default_shipping"] } })).address!;
  t.is(updated.postalCode, "10117");
  t.not(updated.etag, first.etag);
  t.is(codeOf(await t.throwsAsync(user.client.updateAddress({ address: { ...first, city: "Stale" }, updateMask: { paths: ["city"] } }))), Code.Aborted, "a stale etag is refused");
  list = (await user.client.listAddresses({ userId: user.userId })).addresses;
  t.deepEqual(list.map((a) => a.defaultShipping), [true, false]);

  const invalid = await t.throwsAsync(
    user.client.createAddress({ userId: user.userId, address: { recipientName: "", line1: "x".repeat(201), city: "Berlin", postalCode: "", countryCode: "XX", phone: "12" } }),
  );
  t.is(codeOf(invalid), Code.InvalidArgument);
  t.deepEqual(fieldsOf(invalid).sort(), ["address.country_code", "address.line1", "address.phone", "address.postal_code", "address.recipient_name"]);
  const badMask = await t.throwsAsync(user.client.updateAddress({ address: updated, updateMask: { paths: ["user_id"] } }));
  t.deepEqual(fieldsOf(badMask), ["update_mask"]);

  await user.client.deleteAddress({ userId: user.userId, addressId: second.id });
  t.deepEqual((await user.client.listAddresses({ userId: user.userId })).addresses.map((a) => a.id), [first.id]);
  t.is(codeOf(await t.throwsAsync(user.client.deleteAddress({ userId: user.userId, addressId: second.id }))), Code.NotFound);
});

test("profile updates take a field mask and an etag, and validate the phone", async (t) => {
  const user = await signedUpUser(identity);
  const { user: current } = await user.client.getUser({ userId: user.userId });
  const { user: changed } = await user.client.updateUser({ user: { id: user.userId, displayName: "Grace", phone: "+4930123456", etag: current!.etag }, updateMask: { paths: ["display_name", "phone"] } });
  t.is(changed?.displayName, "Grace");
  t.is(changed?.phone, "+4930123456");
  t.is(codeOf(await t.throwsAsync(user.client.updateUser({ user: { id: user.userId, displayName: "Old", etag: current!.etag }, updateMask: { paths: ["display_name"] } }))), Code.Aborted);
  const bad = await t.throwsAsync(user.client.updateUser({ user: { id: user.userId, phone: "call me", email: "x@y.z" }, updateMask: { paths: ["phone", "email"] } }));
  t.deepEqual(fieldsOf(bad).sort(), ["update_mask", "user.phone"]);
  t.is((await user.client.getUser({ userId: user.userId })).user?.email, user.email);
});
