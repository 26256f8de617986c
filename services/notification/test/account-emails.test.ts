// Identity's emails, end to end: identity publishes, this service mails through a real SMTP server
// (Mailpit), the links in the mail do what they say, and the tokens never travel usable on the bus.
import test from "ava";
import { Code } from "@connectrpc/connect";
import { create, fromBinary } from "@bufbuild/protobuf";
import { EmailVerificationRequestedSchema, MfaDisabledSchema, MfaEnabledSchema, PasswordResetRequestedSchema, UserDeletedSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { randomUUID } from "node:crypto";
import { createSealer, DEVELOPMENT_SEALING_PUBLIC_KEY, subjectFor } from "@bazaar/platform";
import { perFile, publishEvent, readStream } from "@bazaar/platform/testing";
import { eventually, failure, hrefsIn, linkIn, newEmail, startIdentityService, startNotificationService, STOREFRONT, strongPassword, tokenOf } from "./helpers.ts";
import { startMailpit } from "./mailpit.ts";

const stack = perFile(test, async (teardown) => {
  const mailpit = await startMailpit();
  teardown(() => mailpit.stop());
  const identity = await startIdentityService();
  teardown(() => identity.stop());
  const notification = await startNotificationService({ mailpit, verifier: identity.verifier });
  teardown(() => notification.stop());
  return { mailpit, identity, notification };
});

test("a new account's verification email arrives with both parts and proper headers, and its link verifies the address", async (t) => {
  const { mailpit, identity } = stack();
  const email = newEmail();
  const password = strongPassword();
  const anonymous = identity.client();
  const { user } = await anonymous.register({ email, password, displayName: "Ada Lovelace" });

  const [mail] = await mailpit.waitFor(email);
  t.is(mail!.Subject, "Confirm your email address");
  t.is(mail!.From.Address, "no-reply@bazaar.localhost");
  t.deepEqual(mail!.ReplyTo.map((a) => a.Address), ["support@bazaar.localhost"]);
  t.true(mail!.Text.includes("Hello Ada Lovelace,"), "a text part, with the user's name");
  t.true(mail!.HTML.includes("Ada Lovelace") && mail!.HTML.includes("<html"), "an HTML part");
  const headers = await mailpit.headers(mail!.ID);
  t.regex(headers["Message-Id"]?.[0] ?? "", /^<[0-9a-f-]{36}@bazaar\.localhost>$/);
  t.is(headers["List-Unsubscribe"], undefined, "verification is transactional: no List-Unsubscribe");

  const link = linkIn(mail!.Text, `${STOREFRONT}/verify-email?token=`);
  t.true(hrefsIn(mail!.HTML).includes(link), "the same link in the HTML part");
  const verified = await anonymous.verifyEmail({ token: tokenOf(link) });
  t.is(verified.user?.id, user!.id);
  t.true(verified.user?.emailVerified);
});

test("a password reset email's link resets the password, and the change is followed by a security notice", async (t) => {
  const { mailpit, identity } = stack();
  const email = newEmail();
  const anonymous = identity.client();
  await anonymous.register({ email, password: strongPassword(), displayName: "Grace" });
  await mailpit.waitFor(email, 1);
  await anonymous.requestPasswordReset({ email });

  const reset = await eventually("the reset email", async () => (await mailpit.waitFor(email, 2)).find((m) => m.Subject === "Reset your Bazaar password"));
  const link = linkIn(reset.Text, `${STOREFRONT}/reset-password?token=`);
  const newPassword = strongPassword();
  await anonymous.completePasswordReset({ token: tokenOf(link), newPassword });
  t.truthy((await anonymous.login({ email, password: newPassword })).tokens?.accessToken, "the new password signs in");

  const notice = await eventually("the security notice", async () => (await mailpit.waitFor(email, 3)).find((m) => m.Subject === "Your Bazaar password was changed"));
  t.true(notice.Text.includes(`${STOREFRONT}/account`));
  t.is((await mailpit.headers(notice.ID))["List-Unsubscribe"], undefined, "security notices cannot be unsubscribed from");
});

test("no usable token travels on the bus or sits in identity's outbox: only sealed ones, which do not verify", async (t) => {
  const { mailpit, identity } = stack();
  const since = new Date();
  const email = newEmail();
  const anonymous = identity.client();
  const { user } = await anonymous.register({ email, password: strongPassword(), displayName: "Linus" });
  await anonymous.requestPasswordReset({ email });
  const mails = await mailpit.waitFor(email, 2);
  const tokens = mails.map((mail) => tokenOf(linkIn(mail.Text, STOREFRONT)));
  t.is(tokens.filter((token) => token.length >= 20).length, 2, "both mailed tokens found");

  // Every event of this user on the stream, raw bytes.
  const onBus = await readStream({
    stream: "BAZAAR_IDENTITY",
    subject: "bazaar.identity.>",
    since,
    count: 2,
    what: "the verification and reset events",
    pick: ({ subject, data }) => {
      if (subject === subjectFor(EmailVerificationRequestedSchema.typeName)) {
        const event = fromBinary(EmailVerificationRequestedSchema, data);
        return event.userId === user!.id ? { raw: Buffer.from(data), token: event.token, sealed: event.sealedToken } : undefined;
      }
      if (subject === subjectFor(PasswordResetRequestedSchema.typeName)) {
        const event = fromBinary(PasswordResetRequestedSchema, data);
        return event.userId === user!.id ? { raw: Buffer.from(data), token: event.token, sealed: event.sealedToken } : undefined;
      }
      return undefined;
    },
  });
  const outbox = await identity.service.runtime.database.em().execute<{ payload: Buffer }[]>(
    "select payload from platform_outbox where type_name in (?, ?)",
    [EmailVerificationRequestedSchema.typeName, PasswordResetRequestedSchema.typeName],
  );
  t.true(outbox.length >= 2, "the outbox rows (kept until pruned) are checked too");
  for (const token of tokens) {
    for (const event of onBus) t.false(event.raw.includes(token), "the token is not in the stream's bytes");
    for (const row of outbox) t.false(Buffer.from(row.payload).includes(token), "the token is not in the outbox's bytes");
  }
  for (const event of onBus) {
    t.is(event.token, "", "the clear-text field stays empty");
    // Too long to be a token at all, or (cut to size) not one identity issued.
    t.is((await failure(anonymous.verifyEmail({ token: event.sealed }))).code, Code.InvalidArgument, "the sealed token is not a token");
    t.is((await failure(anonymous.verifyEmail({ token: event.sealed.slice(-43) }))).code, Code.Unauthenticated, "nor any part of it");
  }
});

test("turning two-step sign-in on and off is followed by a security notice each time", async (t) => {
  const { mailpit, identity, notification } = stack();
  const email = newEmail("mfa");
  const { user } = await identity.client().register({ email, password: strongPassword(), displayName: "Mia" });
  await mailpit.waitFor(email, 1);
  for (const schema of [MfaEnabledSchema, MfaDisabledSchema] as const) {
    await publishEvent(schema, create(schema, { eventId: randomUUID(), userId: user!.id }));
  }
  const mails = await mailpit.waitFor(email, 3);
  const on = mails.find((mail) => mail.Subject === "Two-step sign-in was turned on");
  const off = mails.find((mail) => mail.Subject === "Two-step sign-in was turned off");
  t.true(on!.Text.includes("Hello Mia,") && on!.Text.includes(`${STOREFRONT}/account`));
  t.truthy(off);
  const log = await notification.sql<{ template: string }>("select template from message where user_id = $1 and topic = 'account_security' order by id", [user!.id]);
  t.deepEqual(log.map((row) => row.template), ["email-verification", "security-notice", "security-notice"]);
});

test("a deleted account's contact, choices, order contacts and message data are erased; its log keeps only what was sent when", async (t) => {
  const { mailpit, identity, notification } = stack();
  const email = newEmail("gone");
  const { user } = await identity.client().register({ email, password: strongPassword(), displayName: "Gone Soon" });
  await mailpit.waitFor(email, 1);
  await eventually("the message sent", async () => (await notification.sql("select 1 from message where user_id = $1 and status = 'sent'", [user!.id])).length === 1);
  await publishEvent(UserDeletedSchema, create(UserDeletedSchema, { eventId: randomUUID(), userId: user!.id }));
  await eventually("the contact erased", async () => (await notification.sql("select 1 from contact where user_id = $1", [user!.id])).length === 0);
  const [row] = await notification.sql<{ data: Record<string, unknown>; recipient: string; status: string }>("select data, recipient, status from message where user_id = $1", [user!.id]);
  t.deepEqual(row!.data, {}, "no name, no sealed token left");
  t.regex(row!.recipient, /^erased:/);
  t.is(row!.status, "sent");
});

test("a message still waiting to be sent when its account is deleted is never sent: it fails, saying why", async (t) => {
  const { identity, mailpit, notification } = stack();
  const email = newEmail("gone-waiting");
  const { user } = await identity.client().register({ email, password: strongPassword(), displayName: "Gone Waiting" });
  await mailpit.waitFor(email, 1);
  // A message that is retrying (its next attempt later), as after an SMTP outage.
  const waiting = randomUUID();
  await notification.sql(
    `insert into message (id, event_id, user_id, channel, recipient, template, locale, topic, subject, data, status, attempts, next_attempt_at)
     values ($1, $2, $3, 'email', $4, 'security-notice', 'en', 'account_security', 'Your account changed', $5, 'queued', 3, clock_timestamp() + interval '1 hour')`,
    [waiting, randomUUID(), user!.id, email, JSON.stringify({ displayName: "Gone Waiting", change: "password_changed" })],
  );
  await publishEvent(UserDeletedSchema, create(UserDeletedSchema, { eventId: randomUUID(), userId: user!.id }));
  await eventually("the contact erased", async () => (await notification.sql("select 1 from contact where user_id = $1", [user!.id])).length === 0);
  const [row] = await notification.sql<{ status: string; last_error: string; data: Record<string, unknown> }>("select status, last_error, data from message where id = $1", [waiting]);
  t.deepEqual([row!.status, row!.last_error, row!.data], ["failed", "not sent: the account was deleted", {}]);
  // The message it had already sent stays sent.
  const sent = await notification.sql<{ status: string }>("select status from message where user_id = $1 and id <> $2", [user!.id, waiting]);
  t.deepEqual(sent.map((r) => r.status), ["sent"]);
});

test("an event delivered three times sends one email", async (t) => {
  const { mailpit, notification } = stack();
  const sealer = await createSealer(DEVELOPMENT_SEALING_PUBLIC_KEY);
  const resetRequest = async (email: string) => {
    const userId = randomUUID();
    return create(PasswordResetRequestedSchema, {
      eventId: randomUUID(),
      userId,
      email,
      sealedToken: await sealer.seal("triple-token-value", `reset_password:${userId}`),
      expireTime: { seconds: BigInt(Math.floor(Date.now() / 1000) + 1800), nanos: 0 },
    });
  };
  const email = newEmail("triple");
  const event = await resetRequest(email);
  // Three copies under different message ids, so that JetStream's own duplicate window is not what
  // drops them; then a marker event: the consumer handles in stream order, so once the marker's
  // message exists, all three copies were handled.
  for (let copy = 0; copy < 3; copy++) await publishEvent(PasswordResetRequestedSchema, event, `${event.eventId}-copy-${copy}`);
  const marker = await resetRequest(newEmail("marker"));
  await publishEvent(PasswordResetRequestedSchema, marker);
  await eventually("the marker event to be handled", async () => (await notification.sql("select 1 from message where event_id = $1", [marker.eventId])).length === 1);
  await mailpit.waitFor(marker.email, 1);

  const [mail] = await mailpit.waitFor(email, 1);
  t.true(mail!.Text.includes(`${STOREFRONT}/reset-password?token=triple-token-value`), "the sealed token, opened, is in the link");
  t.is((await notification.sql("select 1 from message where event_id = $1", [event.eventId])).length, 1, "one message row");
  t.is((await mailpit.to(email)).length, 1, "one email in Mailpit");
});
