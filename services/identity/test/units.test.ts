// Identity's pure parts as plain functions: configuration rules, the password policy, sealed secrets,
// the second-factor input rule and what a sign-in attempt is counted against.
import test from "ava";
import { ConfigError, DEVELOPMENT_SEALING_PRIVATE_KEY, DEVELOPMENT_SEALING_PUBLIC_KEY, loadConfig, violations } from "@bazaar/platform";
import { createSecretBox } from "../src/crypto.ts";
import { identityConfigSchema } from "../src/index.ts";
import { accountKey, addressKey, createLoginThrottle } from "../src/login-throttle.ts";
import { passwordProblem } from "../src/passwords.ts";
import { checkSecondFactor, wrongSecondFactor } from "../src/second-factor.ts";

test("outside development the encryption key has no default and must be 32 bytes", (t) => {
  const production = { DATABASE_URL: "postgres://u@db:5432/x", NATS_URL: "nats://nats:4222", IDENTITY_EMAIL_TOKEN_SEALING_KEY: DEVELOPMENT_SEALING_PUBLIC_KEY };
  const missing = t.throws(() => loadConfig(identityConfigSchema, production), { instanceOf: ConfigError });
  t.true(missing.problems.some((p) => p.variable === "IDENTITY_ENCRYPTION_KEY"));
  const short = t.throws(() => loadConfig(identityConfigSchema, { ...production, IDENTITY_ENCRYPTION_KEY: "c2hvcnQ=" }), { instanceOf: ConfigError });
  t.true(short.problems.some((p) => p.variable === "IDENTITY_ENCRYPTION_KEY" && !p.message.includes("c2hvcnQ")), "the secret's value is not echoed");
  const config = loadConfig(identityConfigSchema, { ...production, IDENTITY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64") });
  t.is(config.IDENTITY_ACCESS_TOKEN_TTL_SECONDS, 900);
  t.is(config.IDENTITY_ARGON2_MEMORY_KIB, 19_456);
  t.throws(() => loadConfig(identityConfigSchema, { BAZAAR_ENV: "development", IDENTITY_ARGON2_MEMORY_KIB: "4096" }), { instanceOf: ConfigError });
});

test("outside development the key verification and reset tokens are sealed to is required, and only a public X25519 key is taken", (t) => {
  const production = { DATABASE_URL: "postgres://u@db:5432/x", NATS_URL: "nats://nats:4222", IDENTITY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64") };
  const missing = t.throws(() => loadConfig(identityConfigSchema, production), { instanceOf: ConfigError });
  t.true(missing.problems.some((p) => p.variable === "IDENTITY_EMAIL_TOKEN_SEALING_KEY"));
  const privateKey = t.throws(() => loadConfig(identityConfigSchema, { ...production, IDENTITY_EMAIL_TOKEN_SEALING_KEY: DEVELOPMENT_SEALING_PRIVATE_KEY }), { instanceOf: ConfigError });
  t.true(privateKey.problems.some((p) => p.variable === "IDENTITY_EMAIL_TOKEN_SEALING_KEY"), "a private key is refused: identity only seals");
  t.is(loadConfig(identityConfigSchema, { ...production, IDENTITY_EMAIL_TOKEN_SEALING_KEY: DEVELOPMENT_SEALING_PUBLIC_KEY }).IDENTITY_EMAIL_TOKEN_SEALING_KEY, DEVELOPMENT_SEALING_PUBLIC_KEY);
});

test("the password policy refuses short, common and email-containing passwords and accepts a strong one", (t) => {
  t.regex(passwordProblem("short", "a@b.co") ?? "", /at least 10/);
  t.regex(passwordProblem("x".repeat(129), "a@b.co") ?? "", /at most 128/);
  t.regex(passwordProblem("Password123", "a@b.co") ?? "", /common/);
  t.regex(passwordProblem("aaaaaaaaaaaa", "a@b.co") ?? "", /common/);
  t.regex(passwordProblem("my-ada.lovelace-pw", "ada.lovelace@example.com") ?? "", /email/);
  t.is(passwordProblem("correct horse battery staple", "ada@example.com"), undefined);
});

test("sealed secrets open only with the same key and refuse tampering", (t) => {
  const box = createSecretBox(Buffer.alloc(32, 1).toString("base64"));
  const sealed = box.seal("private key");
  t.not(sealed, box.seal("private key"), "a fresh IV each time");
  t.is(box.open(sealed), "private key");
  t.throws(() => createSecretBox(Buffer.alloc(32, 2).toString("base64")).open(sealed));
  const parts = sealed.split(".");
  parts[3] = Buffer.from("tampered").toString("base64url");
  t.throws(() => box.open(parts.join(".")));
});

test("a second factor is exactly one of a 6-digit code and a recovery code, and a refused one names the field given", (t) => {
  const check = (code: string, recoveryCode: string) => {
    const v = violations();
    checkSecondFactor(v, code, recoveryCode);
    return v.list.map((violation) => violation.field);
  };
  t.deepEqual(check("", ""), ["code"]);
  t.deepEqual(check("123456", "abcd-efgh"), ["recovery_code"]);
  t.deepEqual(check("12345a", ""), ["code"]);
  t.deepEqual(check("", "x".repeat(33)), ["recovery_code"]);
  t.deepEqual(check("123456", ""), []);
  t.deepEqual(check("", "abcd-efgh"), []);
  t.regex(wrongSecondFactor("123456").message, /^code: /);
  t.regex(wrongSecondFactor("").message, /^recovery_code: /);
});

test("a sign-in attempt counts against its account and its client address, each with its own free failures", (t) => {
  const throttle = createLoginThrottle({ firstDelaySeconds: 1, maxDelaySeconds: 60, windowSeconds: 900, freeFailuresPerAccount: 5, freeFailuresPerAddress: 20 });
  t.deepEqual(throttle.keysFor("ada@example.com", "203.0.113.7"), [
    { key: accountKey("ada@example.com"), free: 5, countedFirst: true },
    { key: addressKey("203.0.113.7"), free: 20, countedFirst: false },
  ]);
});
