// Registering with an address that has an account: identity answers the stranger as for a new account
// and publishes RegistrationAttempted; this service mails the owner (not the stranger) with the way to
// sign in or reset the password. End to end through a real SMTP server (Mailpit).
import test from "ava";
import { perFile } from "@bazaar/platform/testing";
import { eventually, hrefsIn, newEmail, startIdentityService, startNotificationService, STOREFRONT, strongPassword } from "./helpers.ts";
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

test("a second registration of an address mails its owner that someone tried, with sign-in and reset links, and nothing else", async (t) => {
  const { mailpit, identity, notification } = stack();
  const email = newEmail("owner");
  await identity.client().register({ email, password: strongPassword(), displayName: "Ada Lovelace" });
  await mailpit.waitFor(email, 1); // the verification email

  const { user } = await identity.client().register({ email, password: strongPassword(), displayName: "Mallory" });
  t.truthy(user?.id, "the stranger is answered as for a new account");
  const mails = await mailpit.waitFor(email, 2);
  const notice = mails.find((mail) => mail.Subject === "Someone tried to create a Bazaar account with your email");
  t.truthy(notice);
  t.true(notice!.Text.includes("Hello Ada Lovelace,"), "addressed by the owner's name, not the stranger's");
  t.false(notice!.Text.includes("Mallory"));
  t.true(hrefsIn(notice!.HTML).includes(`${STOREFRONT}/sign-in`));
  t.true(hrefsIn(notice!.HTML).includes(`${STOREFRONT}/forgot-password`));
  await eventually("the message logged as sent", async () => (await notification.sql("select 1 from message where template = 'account-exists' and recipient = $1 and status = 'sent'", [email])).length === 1);
  t.is((await mailpit.to(email)).length, 2, "no verification email for the account that was not created");
});
