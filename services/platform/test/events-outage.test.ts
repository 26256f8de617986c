// NATS goes away while a service keeps committing events; when it is back, every event arrives and is
// applied exactly once. Runs its own nats-server on a free port (never the machine's).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { createSupervisor, ensureNats, freePort, stackSettings } from "@bazaar/stack";
import test from "ava";
import { Registry } from "prom-client";
import { createDatabase } from "../src/data/database.ts";
import { consume, onEvent } from "../src/events/consumer.ts";
import { publish } from "../src/events/outbox.ts";
import { createRelay } from "../src/events/relay.ts";
import { ensureStreams } from "../src/events/streams.ts";
import { streamName } from "../src/events/subjects.ts";
import { ThingCreatedSchema } from "./gen/bazaar/platformtest/v1/events_pb.ts";
import { connectNats, CreateTestEffect, dropDatabase, Effect, eventually, quietLogger, serverUrl, uniqueName } from "./fixtures/events/support.ts";

test("NATS stopped while 500 events are committed, then restarted: exactly 500 distinct events arrive, each applied once", async (t) => {
  const stateDir = mkdtempSync(path.join(tmpdir(), "bazaar-nats-"));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const supervisor = createSupervisor({ write() {} });
  t.teardown(() => supervisor.stopAll());
  const settings = { ...stackSettings(), natsUrl: `nats://127.0.0.1:${await freePort()}`, stateDir };
  const nats1 = await ensureNats(settings, supervisor);
  t.truthy(nats1.process, "a private nats-server");

  const dbName = uniqueName("bazaar_test");
  t.teardown(() => dropDatabase(dbName));
  const logger = quietLogger();
  const database = await createDatabase({ url: serverUrl, dbName, entities: [Effect], migrations: [CreateTestEffect], logger });
  t.teardown(() => database.close());

  const nats = await connectNats(nats1.adminUrl);
  t.teardown(() => nats.close());
  await ensureStreams(await nats.jetstreamManager(), ["platformtest"]);
  const relayRegistry = new Registry();
  const relay = createRelay({ database, nats, logger, registry: relayRegistry, publishTimeoutMs: 500, backoff: { initialMs: 50, maxMs: 500 } });
  t.teardown(() => relay.stop());
  const consumer = await consume({
    nats,
    database,
    stream: streamName("platformtest"),
    durable: "outage",
    handlers: [
      onEvent(ThingCreatedSchema, async (event, { em, eventId }) => {
        em.create(Effect, { eventId, thingId: event.thingId, name: event.name });
      }),
    ],
    retryBackoff: { initialMs: 100, maxMs: 500 },
    logger,
    registry: new Registry(),
  });
  t.teardown(() => consumer.stop());

  await nats1.process!.stop();
  const published = new Set<string>();
  for (let tx = 0; tx < 100; tx++) {
    const ids = await database.transaction(async (em) => {
      const batch: string[] = [];
      for (let i = 0; i < 5; i++) {
        batch.push((await publish(em, ThingCreatedSchema, create(ThingCreatedSchema, { thingId: `thing-${tx}-${i}`, name: `n${tx * 5 + i}` }))).eventId);
      }
      return batch;
    });
    for (const id of ids) published.add(id);
  }
  t.is(published.size, 500);
  const [before] = await database.em().execute<{ unsent: number }[]>("select count(*)::int as unsent from platform_outbox where sent_at is null");
  t.is(before!.unsent, 500, "nothing could be published while NATS was down");

  // Let the relay fail a few rounds (and back off) before NATS returns.
  const failedRounds = async () => ((await relayRegistry.getSingleMetric("bazaar_outbox_publish_errors_total")?.get())?.values[0]?.value ?? 0) >= 3 * 100;
  await eventually("three failed publish rounds", failedRounds, 20_000, 50);
  await ensureNats(settings, supervisor); // same port, same store: the streams and consumer come back
  await eventually(
    "500 effects",
    async () => {
      const [row] = await database.em().execute<{ n: number }[]>("select count(*)::int as n from test_effect");
      return row!.n >= 500;
    },
    45_000,
    100,
  );
  const [counts] = await database.em().execute<{ effects: number; distinct_events: number; unsent: number; inbox: number }[]>(
    `select (select count(*)::int from test_effect) as effects,
            (select count(distinct event_id)::int from test_effect) as distinct_events,
            (select count(*)::int from platform_outbox where sent_at is null) as unsent,
            (select count(*)::int from platform_inbox) as inbox`,
  );
  t.deepEqual(counts, { effects: 500, distinct_events: 500, unsent: 0, inbox: 500 });
  const applied = await database.em().execute<{ event_id: string }[]>("select event_id from test_effect");
  t.deepEqual(new Set(applied.map((r) => r.event_id)), published);
  const info = await (await nats.jetstreamManager()).streams.info(streamName("platformtest"));
  t.is(info.state.messages, 500, "the stream holds each event once");
});
