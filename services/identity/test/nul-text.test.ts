// U+0000 in identity's requests (sign-up, password reset, the admin's user search) is invalid_argument
// naming the field, and creates nothing — never the internal error PostgreSQL's refusal used to give.
import test from "ava";
import { Code } from "@connectrpc/connect";
import { failure } from "@bazaar/platform/testing";
import { PasswordResetRequestedSchema, UserRegisteredSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { signedUpUser, startIdentity, strongPassword, unique } from "./helpers.ts";

const nul = "\u0000";

/** The code's name ("OK" when the call succeeded) and the violated field paths. */
const refusal = async (call: Promise<unknown>) => {
  const { code, fields } = await failure(call);
  return { code: code === undefined ? "OK" : Code[code], fields };
};

test("sign-up, password reset and the admin's user search with U+0000 are invalid_argument naming the field, and change nothing", async (t) => {
  const identity = await startIdentity();
  t.teardown(() => identity.stop());
  const anonymous = identity.client();
  const registeredBefore = (await identity.events(UserRegisteredSchema)).length;

  t.deepEqual(await refusal(anonymous.register({ email: `${unique()}${nul}@example.com`, password: strongPassword(), displayName: `Ann${nul}` })), {
    code: "InvalidArgument",
    fields: ["email", "display_name"],
  });
  t.is((await identity.events(UserRegisteredSchema)).length, registeredBefore);

  const shopper = await signedUpUser(identity);
  const resetsBefore = (await identity.events(PasswordResetRequestedSchema)).length;
  t.deepEqual(await refusal(anonymous.requestPasswordReset({ email: `${shopper.email}${nul}` })), { code: "InvalidArgument", fields: ["email"] });
  t.is((await identity.events(PasswordResetRequestedSchema)).length, resetsBefore);

  const admin = await signedUpUser(identity, { admin: true });
  t.deepEqual(await refusal(admin.client.listUsers({ query: `shop${nul}` })), { code: "InvalidArgument", fields: ["query"] });
  t.true((await admin.client.listUsers({ query: shopper.email })).users.some((u) => u.id === shopper.userId));
});
