// Concurrent guesses against one account: each attempt is counted before its password is checked, so
// only the free failures reach argon2. A first delay of a minute keeps the outcome independent of how
// long the burst takes to arrive.
import test from "ava";
import { Code, ConnectError } from "@connectrpc/connect";
import { signedUpUser, startIdentity, type StartedIdentity } from "./helpers.ts";

let identity: StartedIdentity;
test.before(async () => (identity = await startIdentity({ IDENTITY_LOGIN_FREE_FAILURES_PER_ACCOUNT: "3", IDENTITY_LOGIN_FIRST_DELAY_SECONDS: "60" })));
test.after.always(() => identity?.stop());

test("50 concurrent wrong passwords for one account: only the free failures (3) get as far as the password check", async (t) => {
  const user = await signedUpUser(identity);
  const guesses = await Promise.allSettled(
    Array.from({ length: 50 }, (_, i) => identity.client().login({ email: user.email, password: `wrong-password-${i}` })),
  );
  const codes = guesses.map((guess) => (guess.status === "rejected" ? ConnectError.from(guess.reason).code : undefined));
  t.is(codes.filter((code) => code === Code.Unauthenticated).length, 3, "wrong-password answers: each was counted before its check");
  t.is(codes.filter((code) => code === Code.ResourceExhausted).length, 47, "the rest are throttled without a check");
  const [row] = await identity.sql<{ failures: number }>("select failures from login_failures where key = ?", [`account:${user.email}`]);
  t.is(row?.failures, 3, "throttled attempts are not counted");
  const right = ConnectError.from(await t.throwsAsync(identity.client().login({ email: user.email, password: user.password })));
  t.is(right.code, Code.ResourceExhausted, "within the delay even the right password waits");
});
