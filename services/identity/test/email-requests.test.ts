// What identity tells a stranger about addresses, and how often it mails: register answers a taken
// address like a free one (and its owner is told instead), a reset request does not wait on the
// account at all, and verification and reset requests are throttled per address asked for and per client.
import { Code } from "@connectrpc/connect";
import test from "ava";
import pg from "pg";
import { PasswordResetRequestedSchema, RegistrationAttemptedSchema, UserRegisteredSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { Role } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { failure, serviceDatabaseUrl } from "@bazaar/platform/testing";
import { eventually, randomIp, signedUpUser, startIdentity, strongPassword, unique, type StartedIdentity } from "./helpers.ts";

let identity: StartedIdentity;
test.before(async () => {
  identity = await startIdentity({ IDENTITY_EMAIL_REQUESTS_FREE_PER_ACCOUNT: "2", IDENTITY_EMAIL_REQUESTS_FREE_PER_ADDRESS: "4", IDENTITY_LOGIN_FIRST_DELAY_SECONDS: "600" });
});
test.after.always(async () => {
  await identity?.stop();
});

test("register answers a taken address as it answers a free one, creates nothing, and tells the owner (RegistrationAttempted)", async (t) => {
  const owner = await signedUpUser(identity);
  const stranger = identity.client();
  const { user: answer } = await stranger.register({ email: owner.email.toUpperCase(), password: strongPassword(), displayName: "Mallory" });
  const { user: fresh } = await stranger.register({ email: `${unique("fresh")}@example.com`, password: strongPassword(), displayName: "Mallory" });
  const shape = (user: typeof answer) => ({ displayName: user!.displayName, roles: user!.roles, emailVerified: user!.emailVerified, disabled: user!.disabled, mfaEnabled: user!.mfaEnabled, etag: user!.etag });
  t.deepEqual(shape(answer), shape(fresh));
  t.deepEqual(answer!.roles, [Role.CUSTOMER]);
  t.is(answer!.email, owner.email);
  t.not(answer!.id, owner.userId, "the owner's id is not given away");

  t.deepEqual(await identity.sql("select id from users where email = ?", [owner.email]), [{ id: owner.userId }], "still one account");
  t.falsy((await identity.events(UserRegisteredSchema)).find((e) => e.userId === answer!.id));
  const attempts = (await identity.events(RegistrationAttemptedSchema)).filter((e) => e.userId === owner.userId);
  t.is(attempts.length, 1);
  t.is(attempts[0]!.email, owner.email);
  t.truthy((await identity.client().login({ email: owner.email, password: owner.password })).tokens, "the owner's password is unchanged");
});

test("a reset request answers without looking the account up: it returns while the users table is locked, and the account's email follows", async (t) => {
  const user = await signedUpUser(identity);
  const locker = new pg.Client({ connectionString: serviceDatabaseUrl(identity.name) });
  await locker.connect();
  t.teardown(() => locker.end());
  await locker.query("begin");
  await locker.query("lock table users in access exclusive mode");
  try {
    // Both answers come back although no statement may read users now: neither waited on the account.
    const nobody = `${unique("nobody")}@example.com`;
    t.deepEqual(await identity.client().requestPasswordReset({ email: user.email }), await identity.client().requestPasswordReset({ email: nobody }));
    t.is((await identity.sql("select 1 from password_reset_requests where email in (?, ?)", [user.email, nobody])).length, 2, "both queued alike");
  } finally {
    await locker.query("rollback");
  }
  const resets = await eventually("the reset mailed once the lock is gone", async () => {
    const found = (await identity.events(PasswordResetRequestedSchema)).filter((e) => e.userId === user.userId);
    return found.length > 0 ? found : undefined;
  });
  t.is(resets.length, 1);
  await eventually("the queue emptied", async () => (await identity.sql("select 1 from password_reset_requests where email = ?", [user.email])).length === 0);
});

test("reset requests for one address are throttled past the free number (known or not alike), and so are a client's", async (t) => {
  for (const email of [(await signedUpUser(identity)).email, `${unique("nobody")}@example.com`]) {
    const ip = randomIp();
    await identity.client({ ip }).requestPasswordReset({ email });
    await identity.client({ ip: randomIp() }).requestPasswordReset({ email });
    const refused = await failure(identity.client({ ip: randomIp() }).requestPasswordReset({ email }));
    t.is(refused.code, Code.ResourceExhausted);
    t.is(refused.reason, "EMAIL_REQUESTS_THROTTLED");
  }
  const ip = randomIp();
  for (let i = 0; i < 4; i++) await identity.client({ ip }).requestPasswordReset({ email: `${unique("many")}@example.com` });
  t.is((await failure(identity.client({ ip }).requestPasswordReset({ email: `${unique("many")}@example.com` }))).reason, "EMAIL_REQUESTS_THROTTLED");
});

test("resending the verification email is throttled past the free number", async (t) => {
  const anonymous = identity.client();
  const email = `${unique("unverified")}@example.com`;
  const password = strongPassword();
  await anonymous.register({ email, password });
  const { tokens } = await anonymous.login({ email, password });
  const me = identity.client({ token: tokens!.accessToken });
  await me.resendEmailVerification({});
  await me.resendEmailVerification({});
  const refused = await failure(me.resendEmailVerification({}));
  t.is(refused.code, Code.ResourceExhausted);
  t.is(refused.reason, "EMAIL_REQUESTS_THROTTLED");
});
