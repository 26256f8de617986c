// A session's absolute lifetime (IDENTITY_SESSION_MAX_AGE_SECONDS): refreshing slides the expiry, but
// never past the session's age limit, and a session older than it is refused however recently used.
import { Code } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import test from "ava";
import { failure } from "@bazaar/platform/testing";
import { signedUpUser, startIdentity, type StartedIdentity } from "./helpers.ts";

let identity: StartedIdentity;
test.before(async () => {
  identity = await startIdentity({ IDENTITY_REFRESH_TOKEN_TTL_SECONDS: "7200", IDENTITY_SESSION_MAX_AGE_SECONDS: "3600" });
});
test.after.always(async () => {
  await identity?.stop();
});

const createdAt = async (sessionId: string) => (await identity.sql<{ created_at: Date }>("select created_at from sessions where id = ?", [sessionId]))[0]!.created_at;

test("a refresh token expires at the session's age limit, not a sliding window past it", async (t) => {
  const user = await signedUpUser(identity);
  const limit = new Date(await createdAt(user.tokens.sessionId)).getTime() + 3600_000;
  t.is(timestampDate(user.tokens.refreshTokenExpireTime!).getTime(), limit, "the sign-in's expiry is capped at the age limit");
  const { tokens } = await identity.client().refreshToken({ refreshToken: user.tokens.refreshToken });
  t.is(timestampDate(tokens!.refreshTokenExpireTime!).getTime(), limit, "so is each refresh's");
});

test("a session older than its absolute lifetime is refused at refresh, though its sliding expiry is ahead", async (t) => {
  const user = await signedUpUser(identity);
  await identity.sql("update sessions set created_at = now() - interval '3601 seconds', expires_at = now() + interval '1 hour' where id = ?", [user.tokens.sessionId]);
  const refused = await failure(identity.client().refreshToken({ refreshToken: user.tokens.refreshToken }));
  t.is(refused.code, Code.Unauthenticated);
  t.is(refused.reason, "INVALID_REFRESH_TOKEN");
});
