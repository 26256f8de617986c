// The infrastructure every service stands on, as `npm test` provisions it: real PostgreSQL, NATS
// JetStream and Consul.
import { randomUUID } from "node:crypto";
import test from "ava";
import { AckPolicy, connect, headers, StringCodec } from "nats";
import pg from "pg";
import { stackSettings } from "../src/index.ts";

const settings = stackSettings();
const suffix = randomUUID().slice(0, 8);

test("PostgreSQL creates a service database and enforces its constraints", async (t) => {
  const admin = new pg.Client({ connectionString: settings.databaseUrl });
  await admin.connect();
  const database = `bazaar_stack_test_${suffix}`;
  await admin.query(`create database ${database}`);
  t.teardown(async () => {
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  });
  const url = new URL(settings.databaseUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  t.teardown(() => client.end());
  await client.query("create table stock (sku text primary key, on_hand int not null check (on_hand >= 0))");
  await client.query("insert into stock values ('SKU-1', 1)");
  const error = await t.throwsAsync(client.query("update stock set on_hand = on_hand - 2 where sku = 'SKU-1'"));
  t.is((error as Error & { code?: string }).code, "23514"); // check_violation
});

test("JetStream keeps a published event for a durable consumer and drops a duplicate message id", async (t) => {
  const nc = await connect({ servers: settings.natsUrl });
  t.teardown(() => nc.close());
  const jsm = await nc.jetstreamManager();
  const stream = `STACK_TEST_${suffix}`;
  await jsm.streams.add({ name: stream, subjects: [`stacktest.${suffix}.>`] });
  t.teardown(() => jsm.streams.delete(stream).then(() => undefined));
  const js = nc.jetstream();
  const sc = StringCodec();
  const h = headers();
  h.set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  const first = await js.publish(`stacktest.${suffix}.order_placed`, sc.encode("order-1"), { msgID: "event-1", headers: h });
  const again = await js.publish(`stacktest.${suffix}.order_placed`, sc.encode("order-1"), { msgID: "event-1" });
  t.false(first.duplicate);
  t.true(again.duplicate);

  await jsm.consumers.add(stream, { durable_name: "reader", ack_policy: AckPolicy.Explicit });
  const consumer = await js.consumers.get(stream, "reader");
  const message = await consumer.next({ expires: 5_000 });
  t.truthy(message);
  t.is(sc.decode(message!.data), "order-1");
  t.is(message!.headers?.get("traceparent"), h.get("traceparent"));
  message!.ack();
  t.is((await jsm.streams.info(stream)).state.messages, 1);
});

test("Consul registers a service, reports it passing, and forgets it on deregistration", async (t) => {
  const consul = `http://${settings.consulAddr}`;
  const name = `stack-test-${suffix}`;
  const register = await fetch(`${consul}/v1/agent/service/register`, {
    method: "PUT",
    body: JSON.stringify({ ID: name, Name: name, Port: 1234, Tags: ["v1"], Check: { TTL: "30s" } }),
  });
  t.true(register.ok);
  t.teardown(() => fetch(`${consul}/v1/agent/service/deregister/${name}`, { method: "PUT" }).then(() => undefined));
  const passing = async () =>
    (await (await fetch(`${consul}/v1/health/service/${name}?passing=true`)).json()) as Array<{ Service: { Port: number; Tags: string[] } }>;
  t.deepEqual(await passing(), []); // a TTL check starts critical
  await fetch(`${consul}/v1/agent/check/pass/service:${name}`, { method: "PUT" });
  const [entry] = await passing();
  t.is(entry?.Service.Port, 1234);
  t.deepEqual(entry?.Service.Tags, ["v1"]);
  await fetch(`${consul}/v1/agent/service/deregister/${name}`, { method: "PUT" });
  const all = (await (await fetch(`${consul}/v1/health/service/${name}`)).json()) as unknown[];
  t.deepEqual(all, []);
});
