// Accounts and sign-in through a real identity service over gRPC: register → verify → login →
// refresh → logout, refresh-token reuse, password change and reset, TOTP MFA, deletion, bad input.
import { Code, ConnectError } from "@connectrpc/connect";
import test from "ava";
import { createTokenVerifier } from "@bazaar/platform";
import { EmailVerificationRequestedSchema, MfaDisabledSchema, MfaEnabledSchema, PasswordChangedSchema, PasswordResetRequestedSchema, UserDeletedSchema, UserRegisteredSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { Role } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { BadRequestSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { currentTotp } from "../src/index.ts";
import { eventually, mailedToken, signedUpUser, startIdentity, strongPassword, unique, type StartedIdentity } from "./helpers.ts";

let identity: StartedIdentity;
test.before(async () => {
  identity = await startIdentity();
});
test.after.always(() => identity?.stop());

const codeOf = (error: unknown) => ConnectError.from(error).code;
const fieldsOf = (error: unknown) => ConnectError.from(error).findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field));

test("register → verify email → login → refresh → logout, with tokens the platform verifier accepts", async (t) => {
  const client = identity.client();
  const email = `  ${unique("Flow")}@Example.COM `;
  const password = strongPassword();
  const { user } = await client.register({ email, password, displayName: "Ada" });
  t.is(user?.email, email.trim().toLowerCase(), "the email is normalised");
  t.false(user?.emailVerified);
  t.deepEqual(user?.roles, [Role.CUSTOMER]);
  t.truthy((await identity.events(UserRegisteredSchema)).find((e) => e.userId === user!.id));

  const verification = (await identity.events(EmailVerificationRequestedSchema)).find((e) => e.userId === user!.id);
  t.is(verification?.token, "", "no token in clear in the event");
  const token = await mailedToken(verification!);
  t.false(verification!.sealedToken.includes(token), "the sealed token does not contain the token");
  const verified = await client.verifyEmail({ token });
  t.true(verified.user?.emailVerified);
  t.is(codeOf(await t.throwsAsync(client.verifyEmail({ token }))), Code.Unauthenticated, "the token is single-use");

  const { tokens } = await client.login({ email, password });
  t.truthy(tokens?.accessToken);
  const { keys } = await client.getJwks({});
  const verifier = createTokenVerifier({ jwks: { keys: keys.map((k) => ({ ...k, $typeName: undefined })) as never }, issuer: "bazaar-identity", audience: "bazaar" });
  const principal = await verifier.verify(tokens!.accessToken);
  t.is(principal.subject, user!.id);
  t.deepEqual([...principal.roles], ["customer"]);
  t.is(principal.kind, "user");

  const me = identity.client({ token: tokens!.accessToken });
  t.is((await me.getUser({ userId: user!.id })).user?.displayName, "Ada");

  const refreshed = await client.refreshToken({ refreshToken: tokens!.refreshToken });
  t.not(refreshed.tokens?.refreshToken, tokens!.refreshToken, "the refresh token rotates");
  t.is(refreshed.tokens?.sessionId, tokens!.sessionId);
  t.is((await verifier.verify(refreshed.tokens!.accessToken)).subject, user!.id);

  await client.logout({ refreshToken: refreshed.tokens!.refreshToken });
  t.is(codeOf(await t.throwsAsync(client.refreshToken({ refreshToken: refreshed.tokens!.refreshToken }))), Code.Unauthenticated, "a logged-out session cannot refresh");
  t.deepEqual((await me.listSessions({ userId: user!.id })).sessions, [], "the session is gone from the device list");
});

test("reusing a rotated refresh token revokes the whole token family", async (t) => {
  const { tokens } = await signedUpUser(identity);
  const client = identity.client();
  const second = (await client.refreshToken({ refreshToken: tokens.refreshToken })).tokens!;
  // The first token leaked and an attacker replays it.
  const reuse = await t.throwsAsync(client.refreshToken({ refreshToken: tokens.refreshToken }));
  t.is(codeOf(reuse), Code.Unauthenticated);
  t.regex(ConnectError.from(reuse).rawMessage, /already used/);
  // The legitimate holder's newer token is dead too.
  t.is(codeOf(await t.throwsAsync(client.refreshToken({ refreshToken: second.refreshToken }))), Code.Unauthenticated);
  const [session] = await identity.sql<{ revoked_reason: string }>("select revoked_reason from sessions where id = ?", [tokens.sessionId]);
  t.is(session?.revoked_reason, "refresh token reused");
});

test("sessions list the devices and one can be revoked; changing the password revokes every other session", async (t) => {
  const user = await signedUpUser(identity);
  const other = (await identity.client().login({ email: user.email, password: user.password })).tokens!;
  const { sessions } = await user.client.listSessions({ userId: user.userId });
  t.is(sessions.length, 2);
  t.true(sessions.find((s) => s.id === user.tokens.sessionId)?.current);
  t.is(sessions[0]?.userAgent, "identity-test/1.0");
  t.regex(sessions[0]?.ipAddress ?? "", /^10\./);

  await user.client.revokeSession({ userId: user.userId, sessionId: other.sessionId });
  t.is(codeOf(await t.throwsAsync(identity.client().refreshToken({ refreshToken: other.refreshToken }))), Code.Unauthenticated);

  const third = (await identity.client().login({ email: user.email, password: user.password })).tokens!;
  const wrong = await t.throwsAsync(user.client.changePassword({ currentPassword: "not-the-password", newPassword: strongPassword() }));
  t.is(codeOf(wrong), Code.Unauthenticated);
  const newPassword = strongPassword();
  await user.client.changePassword({ currentPassword: user.password, newPassword });
  t.is(codeOf(await t.throwsAsync(identity.client().refreshToken({ refreshToken: third.refreshToken }))), Code.Unauthenticated, "other sessions are revoked");
  t.truthy(await identity.client().refreshToken({ refreshToken: user.tokens.refreshToken }), "the current session survives");
  t.is(codeOf(await t.throwsAsync(identity.client().login({ email: user.email, password: user.password }))), Code.Unauthenticated);
  t.truthy((await identity.client().login({ email: user.email, password: newPassword })).tokens);
  t.truthy((await identity.events(PasswordChangedSchema)).find((e) => e.userId === user.userId && !e.viaReset));
});

test("a password reset token works once, within 30 minutes, revokes all sessions and the answer never reveals whether the account exists", async (t) => {
  const user = await signedUpUser(identity);
  const client = identity.client();
  await client.requestPasswordReset({ email: user.email });
  await client.requestPasswordReset({ email: `${unique("nobody")}@example.com` }); // same empty answer
  // Queued, then handled after the answer.
  const resets = await eventually("the reset requested", async () => {
    const found = (await identity.events(PasswordResetRequestedSchema)).filter((e) => e.userId === user.userId);
    return found.length > 0 ? found : undefined;
  });
  t.is(resets.length, 1);
  t.is(resets[0]!.token, "", "no token in clear in the event");
  const token = await mailedToken(resets[0]!);
  const expire = Number(resets[0]!.expireTime!.seconds) * 1000;
  t.true(Math.abs(expire - Date.now() - 30 * 60_000) < 60_000, "valid for 30 minutes");
  const [stored] = await identity.sql<{ token_hash: string }>("select token_hash from email_tokens where user_id = ? and purpose = 'reset_password'", [user.userId]);
  t.not(stored?.token_hash, token, "only the hash is stored");

  const weak = await t.throwsAsync(client.completePasswordReset({ token, newPassword: "password123" }));
  t.is(codeOf(weak), Code.InvalidArgument);
  t.deepEqual(fieldsOf(weak), ["new_password"]);

  const newPassword = strongPassword();
  await client.completePasswordReset({ token, newPassword });
  t.is(codeOf(await t.throwsAsync(client.completePasswordReset({ token, newPassword: strongPassword() }))), Code.Unauthenticated, "single use");
  t.is(codeOf(await t.throwsAsync(client.refreshToken({ refreshToken: user.tokens.refreshToken }))), Code.Unauthenticated, "sessions revoked");
  t.truthy((await client.login({ email: user.email, password: newPassword })).tokens);
  t.truthy((await identity.events(PasswordChangedSchema)).find((e) => e.userId === user.userId && e.viaReset));

  // An expired token: the clock moved past its 30 minutes.
  await client.requestPasswordReset({ email: user.email });
  const later = await eventually("the second reset requested", async () => {
    const found = (await identity.events(PasswordResetRequestedSchema)).filter((e) => e.userId === user.userId);
    return found.length === 2 ? found.at(-1) : undefined;
  });
  await identity.sql("update email_tokens set expires_at = now() - interval '1 second' where user_id = ? and purpose = 'reset_password' and used_at is null", [user.userId]);
  t.is(codeOf(await t.throwsAsync(client.completePasswordReset({ token: await mailedToken(later), newPassword: strongPassword() }))), Code.Unauthenticated, "expired");
  t.truthy((await client.login({ email: user.email, password: newPassword })).tokens, "the password did not change");
});

test("bad input gets invalid_argument naming the field and changes nothing", async (t) => {
  const client = identity.client();
  const email = `${unique("bad")}@example.com`;
  const cases: Array<[string, Parameters<typeof client.register>[0], string[]]> = [
    ["malformed email", { email: "not-an-email", password: strongPassword() }, ["email"]],
    ["short password", { email, password: "short" }, ["password"]],
    ["common password", { email, password: "qwertyuiop" }, ["password"]],
    ["password containing the email", { email, password: `${email.split("@")[0]}-Secret!` }, ["password"]],
    ["oversized fields", { email: `${"a".repeat(250)}@example.com`, password: "x".repeat(500), displayName: "n".repeat(101) }, ["email", "password", "display_name"]],
  ];
  for (const [what, request, fields] of cases) {
    const error = await t.throwsAsync(client.register(request), undefined, what);
    t.is(codeOf(error), Code.InvalidArgument, what);
    t.deepEqual(fieldsOf(error), fields, what);
  }
  t.deepEqual(await identity.sql("select id from users where email = ?", [email]), [], "no account was created");

  await client.register({ email, password: strongPassword() });

  const unknownField = await identity.json("Register", { email: `${unique("json")}@example.com`, password: strongPassword(), isAdmin: true });
  t.is(unknownField.status, 400);
  t.is(unknownField.body.code, "invalid_argument");
  t.regex(String(unknownField.body.message), /isAdmin/);

  t.is(codeOf(await t.throwsAsync(client.refreshToken({ refreshToken: "rt_forged" }))), Code.Unauthenticated);
  t.is(codeOf(await t.throwsAsync(client.verifyEmail({ token: "x".repeat(201) }))), Code.InvalidArgument);
  t.is(codeOf(await t.throwsAsync(client.getUser({ userId: "not-a-uuid" }))), Code.InvalidArgument);
  t.is(codeOf(await t.throwsAsync(identity.client({ token: "forged.token.here" }).getUser({ userId: "0190a000-0000-7000-8000-000000000000" }))), Code.Unauthenticated);
});

test("deleting one's own account removes personal data and keeps an anonymous id", async (t) => {
  const user = await signedUpUser(identity);
  await user.client.createAddress({ userId: user.userId, address: { recipientName: "A", line1: "Main St 1", city: "Berlin", postalCode: "10115", countryCode: "DE" } });
  t.is(codeOf(await t.throwsAsync(user.client.deleteUser({ userId: user.userId, password: "wrong-password!" }))), Code.Unauthenticated);
  await user.client.deleteUser({ userId: user.userId, password: user.password });
  const [row] = await identity.sql<{ email: string | null; display_name: string; deleted_at: Date | null }>("select email, display_name, deleted_at from users where id = ?", [user.userId]);
  t.is(row?.email, null);
  t.is(row?.display_name, "");
  t.truthy(row?.deleted_at);
  t.deepEqual(await identity.sql("select id from addresses where user_id = ?", [user.userId]), []);
  t.is(codeOf(await t.throwsAsync(identity.client().login({ email: user.email, password: user.password }))), Code.Unauthenticated);
  t.truthy((await identity.events(UserDeletedSchema)).find((e) => e.userId === user.userId));
  // The email is free again.
  t.truthy(await identity.client().register({ email: user.email, password: strongPassword() }));
});

test("MFA: enrol with a provisioning URI, sign in with a TOTP code as the second step, recover with single-use codes, disable with re-authentication", async (t) => {
  const user = await signedUpUser(identity);
  const { secret, provisioningUri } = await user.client.enrollMfa({});
  t.regex(provisioningUri, /^otpauth:\/\/totp\/Bazaar:.+\?.*secret=/);
  t.is(codeOf(await t.throwsAsync(user.client.confirmMfa({ code: "000000" === currentTotp(secret) ? "111111" : "000000" }))), Code.Unauthenticated);
  const { recoveryCodes } = await user.client.confirmMfa({ code: currentTotp(secret) });
  t.is(recoveryCodes.length, 10);
  t.is(new Set(recoveryCodes).size, 10);
  const [stored] = await identity.sql<{ mfa_secret: string }>("select mfa_secret from users where id = ?", [user.userId]);
  t.false(stored!.mfa_secret.includes(secret), "the TOTP secret is stored encrypted");

  const anonymous = identity.client();
  const first = await anonymous.login({ email: user.email, password: user.password });
  t.is(first.tokens, undefined, "no tokens before the second step");
  t.truthy(first.mfaChallenge);
  const wrongCode = await t.throwsAsync(anonymous.completeMfaLogin({ mfaChallenge: first.mfaChallenge, code: "12345" }));
  t.is(codeOf(wrongCode), Code.InvalidArgument);
  t.is(codeOf(await t.throwsAsync(anonymous.completeMfaLogin({ mfaChallenge: first.mfaChallenge, code: currentTotp(secret, Date.now() - 10 * 60_000) }))), Code.Unauthenticated);
  // The next time step's code (the current one was spent on the enrolment: codes are single-use).
  const { tokens } = await anonymous.completeMfaLogin({ mfaChallenge: first.mfaChallenge, code: currentTotp(secret, Date.now() + 30_000) });
  t.truthy(tokens?.accessToken);
  t.is(codeOf(await t.throwsAsync(anonymous.completeMfaLogin({ mfaChallenge: first.mfaChallenge, code: currentTotp(secret, Date.now() + 30_000) }))), Code.Unauthenticated, "a challenge is single-use");

  const second = await anonymous.login({ email: user.email, password: user.password });
  const recovered = await anonymous.completeMfaLogin({ mfaChallenge: second.mfaChallenge, recoveryCode: recoveryCodes[0]! });
  t.truthy(recovered.tokens?.refreshToken);
  const third = await anonymous.login({ email: user.email, password: user.password });
  t.is(codeOf(await t.throwsAsync(anonymous.completeMfaLogin({ mfaChallenge: third.mfaChallenge, recoveryCode: recoveryCodes[0]! }))), Code.Unauthenticated, "a recovery code works once");

  const me = identity.client({ token: recovered.tokens!.accessToken });
  t.is(codeOf(await t.throwsAsync(me.disableMfa({ password: "not-my-password", recoveryCode: recoveryCodes[1]! }))), Code.Unauthenticated);
  await me.disableMfa({ password: user.password, recoveryCode: recoveryCodes[1]! });
  t.truthy((await anonymous.login({ email: user.email, password: user.password })).tokens, "without MFA the password is enough again");
  t.deepEqual(await identity.sql("select code_hash from recovery_codes where user_id = ?", [user.userId]), []);
  // Both changes were published, for the security notices the notification service mails.
  t.is((await identity.events(MfaEnabledSchema)).filter((e) => e.userId === user.userId).length, 1);
  t.is((await identity.events(MfaDisabledSchema)).filter((e) => e.userId === user.userId).length, 1);
});
