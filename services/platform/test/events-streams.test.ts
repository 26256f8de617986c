import test, { type ExecutionContext } from "ava";
import { nanos, StorageType, type JetStreamManager } from "nats";
import { ensureStreams } from "../src/events/streams.ts";
import { dlqSubject, domainOf, EventContractError, streamName, subjectFor } from "../src/events/subjects.ts";
import { connectNats, uniqueName } from "./fixtures/events/support.ts";

async function manager(t: ExecutionContext): Promise<JetStreamManager> {
  const nats = await connectNats();
  t.teardown(() => nats.close());
  return nats.jetstreamManager();
}

function forStream(t: ExecutionContext, jsm: JetStreamManager, domain: string): string {
  const name = streamName(domain);
  t.teardown(async () => {
    await jsm.streams.delete(name).catch(() => undefined);
  });
  return name;
}

test("event subjects, domains and stream names derive from the protobuf type name", (t) => {
  t.is(subjectFor("bazaar.order.v1.OrderPlaced"), "bazaar.order.order_placed");
  t.is(subjectFor("bazaar.inventory.v2.StockReserved"), "bazaar.inventory.stock_reserved");
  t.is(subjectFor("bazaar.catalog.v1.SKUPriceChanged"), "bazaar.catalog.sku_price_changed");
  t.is(subjectFor("bazaar.platformtest.v1.ThingCreated"), "bazaar.platformtest.thing_created");
  t.is(domainOf("bazaar.order.v1.OrderPlaced"), "order");
  t.is(streamName("order"), "BAZAAR_ORDER");
  t.is(dlqSubject("order-projector"), "bazaar.dlq.order-projector");
  for (const bad of ["order.v1.OrderPlaced", "bazaar.order.OrderPlaced", "bazaar.Order.v1.OrderPlaced", "bazaar.order.v1.orderPlaced"]) {
    const error = t.throws(() => subjectFor(bad), { instanceOf: EventContractError });
    t.regex(error!.message, /bazaar\.<domain>\.v<N>\.<PastTenseName>/);
  }
  t.throws(() => dlqSubject("has.dot"), { instanceOf: EventContractError });
});

test("ensureStreams creates a file stream per domain and the dead-letter stream; a second call changes nothing", async (t) => {
  const jsm = await manager(t);
  const domain = uniqueName("s");
  const name = forStream(t, jsm, domain);

  const first = await ensureStreams(jsm, [domain]);
  t.deepEqual(first[0], { stream: name, action: "created" });
  t.is(first[1]!.stream, "BAZAAR_DLQ");
  const created = await jsm.streams.info(name);
  t.deepEqual(created.config.subjects, [`bazaar.${domain}.>`]);
  t.is(created.config.storage, StorageType.File);
  t.true(created.config.duplicate_window >= nanos(120_000));
  t.is(created.config.max_age, nanos(7 * 24 * 3600_000), "events are kept a week by default");
  const dlq = await jsm.streams.info("BAZAAR_DLQ");
  t.deepEqual(dlq.config.subjects, ["bazaar.dlq.>"]);
  t.is(dlq.config.max_age, nanos(30 * 24 * 3600_000), "dead letters are kept 30 days by default");

  const second = await ensureStreams(jsm, [domain]);
  t.deepEqual(second, [
    { stream: name, action: "unchanged" },
    { stream: "BAZAAR_DLQ", action: "unchanged" },
  ]);
  const after = await jsm.streams.info(name);
  t.is(after.created, created.created);
  t.deepEqual(after.config, created.config);
});

test("ensureStreams updates a stream whose subjects or duplicate window differ", async (t) => {
  const jsm = await manager(t);
  const domain = uniqueName("s");
  const name = forStream(t, jsm, domain);
  await jsm.streams.add({ name, subjects: [`bazaar.${domain}.old_event`], storage: StorageType.File, duplicate_window: nanos(10_000) });

  const outcome = await ensureStreams(jsm, [domain]);
  t.deepEqual(outcome[0], { stream: name, action: "updated" });
  const info = await jsm.streams.info(name);
  t.deepEqual(info.config.subjects, [`bazaar.${domain}.>`]);
  t.is(info.config.duplicate_window, nanos(120_000));
  t.deepEqual((await ensureStreams(jsm, [domain]))[0], { stream: name, action: "unchanged" });
});

test("ensureStreams gives a stream the configured max age, updates it when the configuration changes, and refuses one shorter than the duplicate window", async (t) => {
  const jsm = await manager(t);
  const domain = uniqueName("s");
  const name = forStream(t, jsm, domain);
  // The dead-letter stream is shared by every test on this NATS: keep its default.
  const withMaxAge = (maxAgeMs: number) => ensureStreams(jsm, [domain], { maxAgeMs });

  t.deepEqual((await withMaxAge(3600_000))[0], { stream: name, action: "created" });
  t.is((await jsm.streams.info(name)).config.max_age, nanos(3600_000));
  t.deepEqual((await withMaxAge(3600_000))[0], { stream: name, action: "unchanged" });
  t.deepEqual((await withMaxAge(0))[0], { stream: name, action: "updated" });
  t.is((await jsm.streams.info(name)).config.max_age, 0, "0 keeps events forever");

  await t.throwsAsync(withMaxAge(60_000), { instanceOf: TypeError, message: /maxAgeMs must be 0 \(forever\) or at least the duplicate window/ });
  t.is((await jsm.streams.info(name)).config.max_age, 0, "a refused configuration changes nothing");
});

test("instances ensuring the same streams at once all succeed with one stream", async (t) => {
  const jsm = await manager(t);
  const domain = uniqueName("s");
  const name = forStream(t, jsm, domain);
  const outcomes = await Promise.all([ensureStreams(jsm, [domain]), ensureStreams(jsm, [domain]), ensureStreams(jsm, [domain])]);
  t.true(outcomes.some((o) => o[0]!.action === "created"));
  t.deepEqual((await jsm.streams.info(name)).config.subjects, [`bazaar.${domain}.>`]);
});

test("ensureStreams refuses a memory stream it cannot convert, and malformed domains", async (t) => {
  const jsm = await manager(t);
  const domain = uniqueName("s");
  const name = forStream(t, jsm, domain);
  await jsm.streams.add({ name, subjects: [`bazaar.${domain}.>`], storage: StorageType.Memory });
  const error = await t.throwsAsync(ensureStreams(jsm, [domain]));
  t.regex(error!.message, /memory storage/);

  for (const bad of ["Order", "dlq", "a.b", "", "9lives"]) {
    await t.throwsAsync(ensureStreams(jsm, [bad]), { instanceOf: EventContractError }, `domain "${bad}"`);
  }
});

test("ensureStreams creates streams with the configured replicas: a single server refuses three copies instead of quietly keeping one", async (t) => {
  const jsm = await manager(t);
  const domain = uniqueName("s");
  const name = forStream(t, jsm, domain);
  await t.throwsAsync(ensureStreams(jsm, [domain], { replicas: 3 }), { message: /replica/i });
  t.deepEqual(await ensureStreams(jsm, [domain], { replicas: 1 }).then((o) => o.find((x) => x.stream === name)?.action), "created");
  t.is((await jsm.streams.info(name)).config.num_replicas, 1);
  await t.throwsAsync(ensureStreams(jsm, [domain], { replicas: 0 }), { instanceOf: TypeError });
});
