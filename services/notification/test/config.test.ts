// Notification's configuration: secrets have defaults only in development, and bad values are refused
// at start naming the variable (never echoing a secret).
import test from "ava";
import { ConfigError, DEVELOPMENT_SEALING_PRIVATE_KEY, DEVELOPMENT_SEALING_PUBLIC_KEY, loadConfig } from "@bazaar/platform";
import { notificationConfigSchema } from "../src/index.ts";

const production = { DATABASE_URL: "postgres://u@db:5432/x", NATS_URL: "nats://nats:4222", SERVICE_CLIENT_SECRET: "a-service-secret-of-some-length" };

test("outside development the SMTP server, the sealing key and the link secret must be given", (t) => {
  const missing = t.throws(() => loadConfig(notificationConfigSchema, production), { instanceOf: ConfigError });
  t.deepEqual(missing.problems.map((p) => p.variable).sort(), ["NOTIFICATION_LINK_SECRET", "NOTIFICATION_SEALING_PRIVATE_KEY", "SMTP_URL"]);
  const config = loadConfig(notificationConfigSchema, {
    ...production,
    SMTP_URL: "smtps://mailer:s3cret@smtp.example.com:465",
    NOTIFICATION_SEALING_PRIVATE_KEY: DEVELOPMENT_SEALING_PRIVATE_KEY,
    NOTIFICATION_LINK_SECRET: "x".repeat(40),
    STOREFRONT_URL: "https://shop.example.com/",
  });
  t.is(config.STOREFRONT_URL, "https://shop.example.com", "no trailing slash: links are joined to it");
  t.is(config.NOTIFICATION_MAX_ATTEMPTS, 10);
});

test("an SMTP URL of another scheme, a public key where the private one belongs and a short link secret are refused", (t) => {
  const bad = t.throws(
    () =>
      loadConfig(notificationConfigSchema, {
        ...production,
        SMTP_URL: "http://user:hunter2@mail.example.com",
        NOTIFICATION_SEALING_PRIVATE_KEY: DEVELOPMENT_SEALING_PUBLIC_KEY,
        NOTIFICATION_LINK_SECRET: "short",
      }),
    { instanceOf: ConfigError },
  );
  t.deepEqual(bad.problems.map((p) => p.variable).sort(), ["NOTIFICATION_LINK_SECRET", "NOTIFICATION_SEALING_PRIVATE_KEY", "SMTP_URL"]);
  t.false(bad.message.includes("hunter2"), "the secret's value is not echoed");
});
