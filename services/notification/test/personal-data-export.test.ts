// A user's download of their data, notification's part: contact, preferences and the messages sent to
// them, without the template data (sealed one-time tokens); never another user's.
import test from "ava";
import { randomUUID } from "node:crypto";
import { uuidv7 } from "uuidv7";
import { PersonalDataService } from "@bazaar/contracts/bazaar/privacy/v1/personal_data_service_pb";
import { perFile, startTestService } from "@bazaar/platform/testing";
import { notification, notificationConfigSchema, type NotificationConfig } from "../src/index.ts";

const harness = perFile(test, async (teardown) => {
  const h = await startTestService<typeof PersonalDataService, NotificationConfig>({
    contract: PersonalDataService,
    prefix: "notification",
    configSchema: notificationConfigSchema,
    define: (name, config) => notification({ config, name }),
    peerSubject: "identity",
  });
  teardown(() => h.stop());
  return h;
});

async function messageTo(userId: string, subject: string): Promise<string> {
  const id = uuidv7();
  await harness().sql(
    `insert into message (id, event_id, user_id, channel, recipient, template, locale, topic, subject, data, status, sent_at)
     values ($1, $2, $3, 'email', $4, 'password_reset', 'en', 'account_security', $5, $6, 'sent', now())`,
    [id, randomUUID(), userId, `${userId}@example.com`, subject, JSON.stringify({ sealedToken: "SEALED-SECRET" })],
  );
  return id;
}

test("identity gets the user's contact, preferences and messages (no template data), none of another user's", async (t) => {
  const h = harness();
  const [me, other] = [randomUUID(), randomUUID()];
  await h.sql("insert into contact (user_id, email, display_name) values ($1, $2, 'Ada')", [me, "ada@example.com"]);
  await h.sql("insert into preference (user_id, topic, channel, enabled) values ($1, 'marketing', 'email', false)", [me]);
  await h.sql("insert into preference (user_id, topic, channel, enabled) values ($1, 'marketing', 'email', true)", [other]);
  const mine = await messageTo(me, "Reset your password");
  await messageTo(other, "Their order shipped");

  const part = await h.peer.exportPersonalData({ userId: me });
  const json = JSON.parse(part.json) as { contact: Record<string, unknown>; preferences: Record<string, unknown>[]; messages: Record<string, unknown>[] };
  t.like(json.contact, { email: "ada@example.com", display_name: "Ada" });
  t.deepEqual(json.preferences.map((p) => [p.topic, p.channel, p.enabled]), [["marketing", "email", false]]);
  t.deepEqual(json.messages.map((m) => [m.id, m.subject, m.status]), [[mine, "Reset your password", "sent"]]);
  t.false(part.json.includes("SEALED-SECRET"), "template data (sealed tokens) stays out");
  t.false(part.json.includes("Their order shipped"));
});
