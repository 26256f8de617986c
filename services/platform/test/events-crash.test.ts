// A service process killed (SIGKILL) after committing an event and before publishing it: the event is
// published once a relay runs again.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import test from "ava";
import { Registry } from "prom-client";
import { createDatabase } from "../src/data/database.ts";
import { createRelay } from "../src/events/relay.ts";
import { ensureStreams } from "../src/events/streams.ts";
import { streamName } from "../src/events/subjects.ts";
import { connectNats, CreateTestEffect, dropDatabase, Effect, eventually, quietLogger, serverUrl, uniqueName } from "./fixtures/events/support.ts";

const fixture = fileURLToPath(new URL("./fixtures/events/crash-publisher.ts", import.meta.url));

test("a crash after commit and before publish: the event is published after restart", async (t) => {
  const dbName = uniqueName("bazaar_test");
  const domain = uniqueName("k");
  t.teardown(() => dropDatabase(dbName));

  const child = spawn(process.execPath, ["--import", "tsx", fixture], {
    env: { ...process.env, CRASH_DB: dbName, CRASH_DOMAIN: domain },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
  t.teardown(() => {
    child.kill("SIGKILL");
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the publisher exited (${code}) before committing`)));
  });
  const eventId = /^committed (\S+)$/.exec(line)?.[1];
  t.truthy(eventId, `the publisher said: ${line}`);
  child.kill("SIGKILL");
  t.is(await exited, "SIGKILL");

  // The "restarted" service: same database, a relay this time.
  const logger = quietLogger();
  const database = await createDatabase({ url: serverUrl, dbName, entities: [Effect], migrations: [CreateTestEffect], logger });
  t.teardown(() => database.close());
  const [pending] = await database.em().execute<{ event_id: string; sent: boolean }[]>("select event_id, sent_at is not null as sent from platform_outbox");
  t.deepEqual(pending, { event_id: eventId!, sent: false }, "committed, never published");

  const nats = await connectNats();
  t.teardown(() => nats.close());
  const jsm = await nats.jetstreamManager();
  t.teardown(async () => {
    await jsm.streams.delete(streamName(domain)).catch(() => undefined);
  });
  await ensureStreams(jsm, [domain]);
  const relay = createRelay({ database, nats, logger, registry: new Registry() });
  t.teardown(() => relay.stop());

  await eventually("the event in its stream", async () => (await jsm.streams.info(streamName(domain))).state.messages === 1);
  const stored = await jsm.streams.getMessage(streamName(domain), { seq: 1 });
  t.is(stored.header.get("Nats-Msg-Id"), eventId!);
  t.is(stored.subject, `bazaar.${domain}.thing_happened`);
  await eventually("the row marked sent", async () => {
    const [row] = await database.em().execute<{ sent: boolean }[]>("select sent_at is not null as sent from platform_outbox");
    return row!.sent;
  });
});
