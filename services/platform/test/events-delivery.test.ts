// Outbox → relay → JetStream → consumer with inbox, against the shared PostgreSQL and NATS. Every test
// has its own database, event domain (so its own subjects and stream) and consumer name.
import { create, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { context, SpanKind, trace } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import test, { type ExecutionContext } from "ava";
import { headers as natsHeaders, type JetStreamManager, type NatsConnection } from "nats";
import { Registry } from "prom-client";
import { uuidv7 } from "uuidv7";
import { createDatabase, type Database } from "../src/data/database.ts";
import { consume, dlqHeaders, onEvent, type ConsumeOptions, type HandlerContext } from "../src/events/consumer.ts";
import { publish } from "../src/events/outbox.ts";
import { createRelay, type RelayOptions } from "../src/events/relay.ts";
import { ensureStreams } from "../src/events/streams.ts";
import { dlqStream, eventTypeHeader, EventContractError, streamName, subjectFor } from "../src/events/subjects.ts";
import type { Logger } from "../src/logger.ts";
import { startTelemetry, type Telemetry } from "../src/telemetry/start-telemetry.ts";
import { adminQuery, connectNats, CreateTestEffect, domainEvents, dropDatabase, Effect, eventually, quietLogger, serverUrl, thingHappened, uniqueName } from "./fixtures/events/support.ts";

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry | undefined;
test.before(() => void (telemetry = startTelemetry({ serviceName: "events-delivery-test", exporter })));
test.after.always(() => telemetry?.shutdown());

interface Fixture {
  domain: string;
  schema: DescMessage;
  stream: string;
  database: Database;
  nats: NatsConnection;
  jsm: JetStreamManager;
  logger: Logger;
}

async function setup(t: ExecutionContext, { withStream = true } = {}): Promise<Fixture> {
  const domain = uniqueName("t");
  const dbName = uniqueName("bazaar_test");
  t.teardown(() => dropDatabase(dbName));
  const logger = quietLogger();
  const database = await createDatabase({ url: serverUrl, dbName, entities: [Effect], migrations: [CreateTestEffect], logger });
  t.teardown(() => database.close());
  const nats = await connectNats();
  t.teardown(() => nats.close());
  const jsm = await nats.jetstreamManager();
  const stream = streamName(domain);
  t.teardown(async () => {
    await jsm.streams.delete(stream).catch(() => undefined);
  });
  if (withStream) await ensureStreams(jsm, [domain]);
  return { domain, schema: thingHappened(domain), stream, database, nats, jsm, logger };
}

function startRelay(t: ExecutionContext, f: Fixture, extra: Partial<RelayOptions> = {}) {
  const registry = new Registry();
  const relay = createRelay({ database: f.database, nats: f.nats, logger: f.logger, registry, backoff: { initialMs: 20, maxMs: 200 }, ...extra });
  t.teardown(() => relay.stop());
  return { relay, registry };
}

/** A consumer whose handler records one Effect row per applied event. */
async function startConsumer(t: ExecutionContext, f: Fixture, extra: Partial<ConsumeOptions> = {}) {
  const registry = new Registry();
  const durable = extra.durable ?? uniqueName("c");
  const consumer = await consume({
    nats: f.nats,
    database: f.database,
    stream: f.stream,
    durable,
    handlers: [
      onEvent(f.schema, async (event, { em, eventId }) => {
        const e = event as unknown as { thingId: string; name: string };
        em.create(Effect, { eventId, thingId: e.thingId, name: e.name });
      }),
    ],
    logger: f.logger,
    registry,
    ...extra,
  });
  t.teardown(() => consumer.stop());
  return { consumer, registry, durable };
}

async function publishThings(f: Fixture, names: string[]): Promise<string[]> {
  return f.database.transaction(async (em) => {
    const ids: string[] = [];
    for (const name of names) ids.push((await publish(em, f.schema, create(f.schema, { thingId: uuidv7(), name }))).eventId);
    return ids;
  });
}

async function effects(f: Fixture): Promise<{ event_id: string; name: string }[]> {
  return f.database.em().execute("select event_id, name from test_effect order by id");
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values.filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value)).reduce((sum, v) => sum + v.value, 0);
}

async function consumerIdle(f: Fixture, durable: string, delivered: number): Promise<boolean> {
  const info = await f.jsm.consumers.info(f.stream, durable);
  return info.delivered.stream_seq >= delivered && info.num_pending === 0 && info.num_ack_pending === 0;
}

test("an event committed with its change reaches the consumer once, on its subject, with Nats-Msg-Id = event id", async (t) => {
  const f = await setup(t);
  startRelay(t, f);
  await startConsumer(t, f);
  const [eventId] = await publishThings(f, ["first"]);

  await eventually("the consumer's effect", async () => (await effects(f)).length === 1);
  t.deepEqual(await effects(f), [{ event_id: eventId!, name: "first" }]);
  const stored = await f.jsm.streams.getMessage(f.stream, { last_by_subj: `bazaar.${f.domain}.thing_happened` });
  t.is(stored.header.get("Nats-Msg-Id"), eventId!);
  t.is(stored.header.get(eventTypeHeader), f.schema.typeName);
  await eventually("the row marked sent", async () => {
    const [row] = await f.database.em().execute<{ sent: boolean }[]>("select sent_at is not null as sent from platform_outbox");
    return row?.sent === true;
  });
  t.pass();
});

test("the trace continues from the publishing transaction through the producer span to the consumer span", async (t) => {
  const f = await setup(t);
  startRelay(t, f);
  let handlerTraceId: string | undefined;
  await startConsumer(t, f, {
    handlers: [
      onEvent(f.schema, async (_event, { em, eventId }) => {
        handlerTraceId = trace.getActiveSpan()?.spanContext().traceId;
        em.create(Effect, { eventId, thingId: "t", name: "traced" });
      }),
    ],
  });
  const tracer = trace.getTracer("test");
  const request = tracer.startSpan("request");
  await context.with(trace.setSpan(context.active(), request), () => publishThings(f, ["traced"]));
  request.end();
  const traceId = request.spanContext().traceId;

  await eventually("the consumer span", async () => exporter.getFinishedSpans().some((s) => s.spanContext().traceId === traceId && s.kind === SpanKind.CONSUMER));
  const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const producer = spans.find((s) => s.kind === SpanKind.PRODUCER);
  const consumer = spans.find((s) => s.kind === SpanKind.CONSUMER);
  t.truthy(producer, "a producer span in the request's trace");
  t.is(producer!.parentSpanContext?.spanId, request.spanContext().spanId);
  t.is(producer!.name, `send bazaar.${f.domain}.thing_happened`);
  t.is(consumer!.parentSpanContext?.spanId, producer!.spanContext().spanId);
  t.is(handlerTraceId, traceId);
});

test("the same message delivered three times is applied once", async (t) => {
  const f = await setup(t);
  const { registry, durable } = await startConsumer(t, f);
  // Three copies of one event (same bytes, same event_id) that JetStream cannot deduplicate, as when
  // a producer republishes after its deduplication window.
  const eventId = uuidv7();
  const bytes = toBinary(f.schema, create(f.schema, { eventId, thingId: "t1", name: "thrice" }));
  const js = f.nats.jetstream();
  for (let copy = 1; copy <= 3; copy++) {
    const headers = natsHeaders();
    headers.set(eventTypeHeader, f.schema.typeName);
    await js.publish(subjectFor(f.schema.typeName), bytes, { msgID: `${eventId}-copy-${copy}`, headers });
  }

  await eventually("all three deliveries acknowledged", () => consumerIdle(f, durable, 3));
  t.deepEqual(await effects(f), [{ event_id: eventId, name: "thrice" }]);
  t.is(await metricValue(registry, "bazaar_events_handled_total", { outcome: "applied" }), 1);
  t.is(await metricValue(registry, "bazaar_events_handled_total", { outcome: "duplicate" }), 2);
});

test("a message redelivered after its handler failed is applied once", async (t) => {
  const f = await setup(t);
  startRelay(t, f);
  let attempts = 0;
  const { durable } = await startConsumer(t, f, {
    retryBackoff: { initialMs: 50 },
    handlers: [
      onEvent(f.schema, async (_event, { em, eventId }) => {
        attempts += 1;
        em.create(Effect, { eventId, thingId: "t", name: `attempt ${attempts}` });
        await em.flush(); // written, then rolled back by the failure below
        if (attempts < 3) throw new Error(`transient failure ${attempts}`);
      }),
    ],
  });
  const [eventId] = await publishThings(f, ["flaky"]);
  await eventually("the third attempt acknowledged", () => consumerIdle(f, durable, 1).then((idle) => idle && attempts === 3));
  t.deepEqual(await effects(f), [{ event_id: eventId!, name: "attempt 3" }]);
});

test("a poison message goes to the dead-letter stream after maxDeliver while other messages keep flowing", async (t) => {
  const f = await setup(t);
  await ensureStreams(f.jsm, []); // the shared BAZAAR_DLQ
  startRelay(t, f);
  let poisonAttempts = 0;
  const attemptsWhenApplied: number[] = [];
  const { registry, durable } = await startConsumer(t, f, {
    maxDeliver: 3,
    retryBackoff: { initialMs: 1500, maxMs: 1500 },
    handlers: [
      onEvent(f.schema, async (event, { em, eventId }) => {
        const e = event as unknown as { name: string };
        if (e.name === "poison") {
          poisonAttempts += 1;
          throw new Error("cannot digest\nthis");
        }
        attemptsWhenApplied.push(poisonAttempts);
        em.create(Effect, { eventId, thingId: "t", name: e.name });
      }),
    ],
  });
  t.teardown(async () => {
    await f.jsm.streams.purge(dlqStream, { filter: `bazaar.dlq.${durable}` }).catch(() => undefined);
  });
  const [poisonId] = await publishThings(f, ["poison"]);
  const good = Array.from({ length: 20 }, (_, i) => `good ${i}`);
  await publishThings(f, good);

  await eventually("the dead-lettered copy", async () => (await metricValue(registry, "bazaar_events_handled_total", { outcome: "dead_lettered" })) === 1);
  const dead = await f.jsm.streams.getMessage(dlqStream, { last_by_subj: `bazaar.dlq.${durable}` });
  t.is(dead.header.get(dlqHeaders.subject), `bazaar.${f.domain}.thing_happened`);
  t.is(dead.header.get(dlqHeaders.stream), f.stream);
  t.is(dead.header.get(dlqHeaders.streamSequence), "1");
  t.is(dead.header.get(dlqHeaders.deliveries), "3");
  t.is(dead.header.get(dlqHeaders.consumer), durable);
  t.is(dead.header.get(dlqHeaders.messageId), poisonId!);
  t.regex(dead.header.get(dlqHeaders.error), /cannot digest this/);
  t.is(dead.header.get(eventTypeHeader), f.schema.typeName);
  t.is(poisonAttempts, 3);

  await eventually("every message settled (the poison one terminated)", () => consumerIdle(f, durable, 21));
  t.deepEqual(
    (await effects(f)).map((e) => e.name).sort(),
    [...good].sort(),
  );
  // The good ones did not wait for the poison one to be given up on.
  t.true(attemptsWhenApplied.every((n) => n < 3), `poison attempts seen by the good messages: ${attemptsWhenApplied.join(",")}`);
});

test("an undecodable message is dead-lettered at once", async (t) => {
  const f = await setup(t);
  await ensureStreams(f.jsm, []);
  const { registry, durable } = await startConsumer(t, f, { maxDeliver: 5 });
  t.teardown(async () => {
    await f.jsm.streams.purge(dlqStream, { filter: `bazaar.dlq.${durable}` }).catch(() => undefined);
  });
  const headers = natsHeaders();
  headers.set(eventTypeHeader, f.schema.typeName);
  await f.nats.jetstream().publish(subjectFor(f.schema.typeName), new Uint8Array([0xff, 0xff, 0xff]), { headers });
  await eventually("the dead-lettered copy", async () => (await metricValue(registry, "bazaar_events_handled_total", { outcome: "dead_lettered" })) === 1);
  const dead = await f.jsm.streams.getMessage(dlqStream, { last_by_subj: `bazaar.dlq.${durable}` });
  t.is(dead.header.get(dlqHeaders.deliveries), "1");
  t.regex(dead.header.get(dlqHeaders.error), /cannot decode/);
  await eventually("the message terminated", () => consumerIdle(f, durable, 1));
});

test("a row stays in the outbox while JetStream refuses it and is published once the stream exists", async (t) => {
  const f = await setup(t, { withStream: false });
  const { registry } = startRelay(t, f, { publishTimeoutMs: 500, metricsIntervalMs: 50 });
  const [eventId] = await publishThings(f, ["early"]);

  await eventually("a refused publish", async () => (await metricValue(registry, "bazaar_outbox_publish_errors_total")) >= 2);
  const [row] = await f.database.em().execute<{ sent: boolean }[]>("select sent_at is not null as sent from platform_outbox");
  t.false(row!.sent);
  await eventually("the backlog gauge", async () => (await metricValue(registry, "bazaar_outbox_backlog")) === 1);
  t.true((await metricValue(registry, "bazaar_outbox_oldest_unsent_age_seconds")) > 0);

  await ensureStreams(f.jsm, [f.domain]);
  await eventually("the stored message", async () => {
    try {
      return (await f.jsm.streams.getMessage(f.stream, { seq: 1 })).header.get("Nats-Msg-Id") === eventId;
    } catch {
      return false;
    }
  });
  await eventually("the backlog drained", async () => (await metricValue(registry, "bazaar_outbox_backlog")) === 0);
  t.is(await metricValue(registry, "bazaar_outbox_published_total"), 1);
});

test("the relay wakes on NOTIFY, also after its LISTEN connection was cut, without waiting for the poll", async (t) => {
  const f = await setup(t);
  // A poll interval far beyond the wait below: only NOTIFY can explain a prompt publish.
  const { registry } = startRelay(t, f, { pollIntervalMs: 600_000 });
  const listening = async () =>
    (await adminQuery("select pid from pg_stat_activity where datname = $1 and query ilike 'listen platform_outbox%'", [f.database.dbName])).length === 1;
  await eventually("the LISTEN connection", listening);
  await publishThings(f, ["one"]);
  await eventually("the first publish", async () => (await metricValue(registry, "bazaar_outbox_published_total")) === 1, 10_000);

  await adminQuery("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and query ilike 'listen platform_outbox%'", [f.database.dbName]);
  await eventually("the LISTEN connection back", listening);
  await publishThings(f, ["two"]);
  await eventually("the second publish", async () => (await metricValue(registry, "bazaar_outbox_published_total")) === 2, 10_000);
  const info = await f.jsm.streams.info(f.stream);
  t.is(info.state.messages, 2);
});

test("two relays on one database publish each event exactly once", async (t) => {
  const f = await setup(t);
  const a = startRelay(t, f, { batchSize: 10 });
  const b = startRelay(t, f, { batchSize: 10 });
  for (let i = 0; i < 20; i++) await publishThings(f, Array.from({ length: 10 }, (_, j) => `n${i}-${j}`));

  const published = async () =>
    (await metricValue(a.registry, "bazaar_outbox_published_total")) + (await metricValue(b.registry, "bazaar_outbox_published_total"));
  await eventually("200 publishes", async () => (await published()) >= 200);
  const [row] = await f.database.em().execute<{ unsent: number }[]>("select count(*) filter (where sent_at is null)::int as unsent from platform_outbox");
  t.is(row!.unsent, 0);
  t.is(await published(), 200, "no event was published twice");
  t.is((await f.jsm.streams.info(f.stream)).state.messages, 200);
});

test("flush publishes what is pending and says how many", async (t) => {
  const f = await setup(t);
  const { relay } = startRelay(t, f);
  await relay.stop(); // the loop is off: only flush can publish now
  await publishThings(f, ["a", "b", "c"]);
  t.is(await relay.flush(), 3);
  t.is((await f.jsm.streams.info(f.stream)).state.messages, 3);
  t.is(await relay.flush(), 0);
});

test("stop lets the handler in flight finish and commit before resolving", async (t) => {
  const f = await setup(t);
  startRelay(t, f);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let started = false;
  const { consumer, durable } = await startConsumer(t, f, {
    handlers: [
      onEvent(f.schema, async (_event, { em, eventId }) => {
        started = true;
        await released;
        em.create(Effect, { eventId, thingId: "t", name: "slow" });
      }),
    ],
  });
  await publishThings(f, ["slow"]);
  await eventually("the handler started", async () => started);
  let stopped = false;
  const stopping = consumer.stop().then(() => (stopped = true));
  await new Promise((resolve) => setImmediate(resolve));
  t.false(stopped, "stop waits for the handler");
  release();
  await stopping;
  t.deepEqual((await effects(f)).map((e) => e.name), ["slow"]);
  await eventually("the message acknowledged", () => consumerIdle(f, durable, 1));
});

test("the consumer reports its lag from the consumer's num_pending", async (t) => {
  const f = await setup(t);
  const relay = startRelay(t, f);
  await publishThings(f, ["x", "y", "z"]);
  await relay.relay.flush();
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const { registry, durable } = await startConsumer(t, f, {
    lagIntervalMs: 50,
    handlers: [
      onEvent(f.schema, async (_event, { em, eventId }) => {
        await released;
        em.create(Effect, { eventId, thingId: "t", name: "n" });
      }),
    ],
  });
  await eventually("some lag reported", async () => (await metricValue(registry, "bazaar_consumer_lag", { consumer: durable })) + (await metricValue(registry, "bazaar_consumer_ack_pending", { consumer: durable })) === 3);
  release();
  await eventually("lag back to zero", async () => (await metricValue(registry, "bazaar_consumer_lag", { consumer: durable })) === 0 && (await metricValue(registry, "bazaar_consumer_ack_pending", { consumer: durable })) === 0);
  t.is((await effects(f)).length, 3);
});

test("publish refuses to run outside a transaction, a foreign message, and a malformed event_id", async (t) => {
  const f = await setup(t);
  const event = create(f.schema, { thingId: "t" });
  const outside = await t.throwsAsync(publish(f.database.em(), f.schema, event), { instanceOf: EventContractError });
  t.regex(outside!.message, /inside a transaction/);
  const other = thingHappened(uniqueName("o"));
  await f.database.transaction(async (em) => {
    const foreign = await t.throwsAsync(publish(em, f.schema, create(other, {}) as never), { instanceOf: EventContractError });
    t.regex(foreign!.message, /was given a/);
    const badId = await t.throwsAsync(publish(em, f.schema, create(f.schema, { eventId: "42" })), { instanceOf: EventContractError });
    t.regex(badId!.message, /not a UUIDv7/);
  });
  const [row] = await f.database.em().execute<{ n: number }[]>("select count(*)::int as n from platform_outbox");
  t.is(row!.n, 0);
});

test("the consumer prunes its inbox rows older than the retention, and only its own", async (t) => {
  const f = await setup(t);
  const durable = uniqueName("c");
  await f.database.em().execute(
    `insert into platform_inbox (consumer, event_id, subject, processed_at) values
       (?, 'old', 's', now() - interval '8 days'), (?, 'recent', 's', now() - interval '1 day'), ('someone_else', 'old', 's', now() - interval '8 days')`,
    [durable, durable],
  );
  await startConsumer(t, f, { durable });
  const remaining = async () =>
    (await f.database.em().execute<{ consumer: string; event_id: string }[]>("select consumer, event_id from platform_inbox order by consumer, event_id")).map(
      (r) => `${r.consumer === durable ? "mine" : r.consumer}:${r.event_id}`,
    );
  await eventually("the old row pruned", async () => !(await remaining()).includes("mine:old"));
  t.deepEqual(await remaining(), ["mine:recent", "someone_else:old"]);
});

test("consume names a stream that does not exist", async (t) => {
  const f = await setup(t, { withStream: false });
  const error = await t.throwsAsync(startConsumer(t, f));
  t.regex(error!.message, new RegExp(`stream ${f.stream} does not exist`));
});

test("a handler slower than ackWait keeps its message: it is not redelivered meanwhile", async (t) => {
  const f = await setup(t);
  startRelay(t, f);
  const deliveries: number[] = [];
  const { durable, registry } = await startConsumer(t, f, {
    ackWaitMs: 1000,
    handlers: [
      onEvent(f.schema, async (_event, { em, eventId, message }) => {
        deliveries.push(message.info.deliveryCount);
        await new Promise((resolve) => setTimeout(resolve, 2500)); // the slow work itself
        em.create(Effect, { eventId, thingId: "t", name: "slow" });
      }),
    ],
  });
  await publishThings(f, ["slow"]);
  await eventually("the message acknowledged", () => consumerIdle(f, durable, 1));
  t.deepEqual(deliveries, [1]);
  t.is(await metricValue(registry, "bazaar_events_handled_total", { outcome: "duplicate" }), 0, "no redelivery reached the inbox check");
  t.is((await effects(f)).length, 1);
});

test("a consumer of two event types receives both, each by its own handler, and no other type", async (t) => {
  const f = await setup(t);
  startRelay(t, f);
  const { thingHappened: happened, thingVanished: vanished, thingRenamed: renamed } = domainEvents(f.domain);
  f.schema = happened;
  const seen: string[] = [];
  const record = (kind: string) =>
    async (event: unknown, { em, eventId }: HandlerContext) => {
      const e = event as { name: string };
      seen.push(`${kind}:${e.name}`);
      em.create(Effect, { eventId, thingId: "t", name: e.name });
    };
  const { registry, durable } = await startConsumer(t, f, { handlers: [onEvent(happened, record("happened")), onEvent(vanished, record("vanished"))] });
  await f.database.transaction(async (em) => {
    await publish(em, happened, create(happened, { name: "a" }));
    await publish(em, renamed, create(renamed, { name: "not for us" }));
    await publish(em, vanished, create(vanished, { name: "b" }));
  });
  await eventually("both handled", async () => seen.length === 2);
  t.deepEqual(seen, ["happened:a", "vanished:b"]);
  const info = await f.jsm.consumers.info(f.stream, durable);
  // The consumer filters on its two subjects (servers ≥ 2.10) or sees and ignores the third (older servers).
  const ignored = await metricValue(registry, "bazaar_events_handled_total", { outcome: "ignored" });
  t.true(info.num_pending === 0 && (ignored === 0 || ignored === 1));
});

test("messages received together are applied in stream order, many to a transaction", async (t) => {
  const f = await setup(t);
  startRelay(t, f);
  const names = Array.from({ length: 50 }, (_, i) => `thing ${i}`);
  await publishThings(f, names);
  await eventually("all 50 in the stream", async () => (await f.jsm.streams.info(f.stream)).state.messages === 50);
  const transactions = new Set<string>();
  const { durable } = await startConsumer(t, f, {
    handlers: [
      onEvent(f.schema, async (event, { em, eventId }) => {
        const [row] = await em.execute<{ txid: string }[]>("select txid_current()::text as txid");
        transactions.add(row!.txid);
        em.create(Effect, { eventId, thingId: "t", name: (event as unknown as { name: string }).name });
      }),
    ],
  });
  await eventually("all 50 acknowledged", () => consumerIdle(f, durable, 50));
  t.deepEqual((await effects(f)).map((e) => e.name), names);
  t.true(transactions.size < 50 / 4, `${transactions.size} transactions for 50 events`);
});

test("a failure inside a batch rolls it back; every other message is still applied exactly once", async (t) => {
  const f = await setup(t);
  startRelay(t, f);
  const names = Array.from({ length: 20 }, (_, i) => (i === 7 ? "fails once" : `thing ${i}`));
  await publishThings(f, names);
  await eventually("all 20 in the stream", async () => (await f.jsm.streams.info(f.stream)).state.messages === 20);
  let attempts = 0;
  const { registry, durable } = await startConsumer(t, f, {
    retryBackoff: { initialMs: 50 },
    handlers: [
      onEvent(f.schema, async (event, { em, eventId }) => {
        const name = (event as unknown as { name: string }).name;
        if (name === "fails once" && ++attempts === 1) throw new Error("transient");
        em.create(Effect, { eventId, thingId: "t", name });
      }),
    ],
  });
  await eventually("all 20 applied", async () => (await effects(f)).length === 20 && consumerIdle(f, durable, 20));
  t.deepEqual((await effects(f)).map((e) => e.name).sort(), [...names].sort());
  t.is(await metricValue(registry, "bazaar_events_handled_total", { outcome: "applied" }), 20);
  // Once in the batch (rolled back with it), once on its own.
  t.is(attempts, 2);
});

test("a new durable starts at the stream's beginning by default and at its end with startAt 'new'; once created it keeps its position", async (t) => {
  const f = await setup(t);
  startRelay(t, f);
  const [before] = await publishThings(f, ["before"]);
  await eventually("the event in the stream", async () => (await f.jsm.streams.info(f.stream)).state.messages === 1);

  const fromNow = await startConsumer(t, f, { startAt: "new" });
  const [after] = await publishThings(f, ["after"]);
  await eventually("the 'new' consumer's effect", async () => (await effects(f)).length === 1);
  t.deepEqual((await effects(f)).map((e) => e.event_id), [after!], "the event from before it existed was not delivered");

  await fromNow.consumer.stop();
  const again = await startConsumer(t, f, { durable: fromNow.durable, startAt: "all" });
  const [third] = await publishThings(f, ["third"]);
  await eventually("the restarted consumer's effect", async () => (await effects(f)).length === 2);
  t.deepEqual((await effects(f)).map((e) => e.event_id), [after!, third!], "an existing durable kept its position");
  await again.consumer.stop();

  const history = await startConsumer(t, f, { startAt: "all" });
  await eventually("the 'all' consumer read the whole stream", () => consumerIdle(f, history.durable, 3));
  t.is((await f.jsm.consumers.info(f.stream, history.durable)).delivered.stream_seq, 3, "it began with the event from before");
  t.truthy(before);
});
