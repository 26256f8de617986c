// The consumer's batching and failure policy as plain functions: no NATS, no database.
import test from "ava";
import { batches, freshInOrder, planBatch } from "../src/events/batching.ts";
import { afterFailure } from "../src/events/dead-letters.ts";

/** An async source whose items are pushed by the test: what is pushed before a read is "already buffered". */
function channel<T>() {
  const buffered: T[] = [];
  const waiting: ((result: IteratorResult<T>) => void)[] = [];
  let ended = false;
  return {
    push(...items: T[]) {
      for (const item of items) {
        const reader = waiting.shift();
        if (reader) reader({ value: item, done: false });
        else buffered.push(item);
      }
    },
    end() {
      ended = true;
      for (const reader of waiting.splice(0)) reader({ value: undefined, done: true });
    },
    [Symbol.asyncIterator](): AsyncIterator<T> {
      return {
        next: () => {
          if (buffered.length > 0) return Promise.resolve({ value: buffered.shift()!, done: false });
          if (ended) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => waiting.push(resolve));
        },
      };
    },
  };
}

test("ordered batching takes what is already buffered, up to maxBatch, without waiting for more", async (t) => {
  const source = channel<number>();
  source.push(1, 2, 3, 4, 5);
  const reader = batches(source, { maxBatch: 3, ordered: true });
  t.deepEqual((await reader.next()).value, [1, 2, 3]);
  t.deepEqual((await reader.next()).value, [4, 5]); // not held back until a third item comes
  const later = reader.next();
  source.push(6);
  t.deepEqual((await later).value, [6]);
  source.push(7, 8);
  source.end();
  t.deepEqual((await reader.next()).value, [7, 8]);
  t.true((await reader.next()).done);
});

test("an item that arrives while a batch is being formed is carried into the next batch, not lost", async (t) => {
  const source = channel<number>();
  source.push(1);
  const reader = batches(source, { maxBatch: 10, ordered: true });
  t.deepEqual((await reader.next()).value, [1]);
  source.push(2, 3);
  t.deepEqual((await reader.next()).value, [2, 3]);
  source.end();
  t.true((await reader.next()).done);
});

test("unordered batching (concurrency above 1) yields batches of one", async (t) => {
  const source = channel<number>();
  source.push(1, 2, 3);
  source.end();
  const seen: number[][] = [];
  for await (const batch of batches(source, { maxBatch: 64, ordered: false })) seen.push(batch);
  t.deepEqual(seen, [[1], [2], [3]]);
});

interface Msg {
  id: string;
  type: string;
  info: { deliveryCount: number };
}
const msg = (id: string, type = "known", deliveryCount = 1): Msg => ({ id, type, info: { deliveryCount } });
const handlerFor = (m: Msg) => (m.type === "known" ? "handler" : undefined);
const decode = (_handler: string, m: Msg) => {
  if (m.id.startsWith("bad")) throw new Error("cannot decode");
  return `event ${m.id}`;
};

test("a batch's messages without a handler are set apart and the rest decoded in order", (t) => {
  const plan = planBatch([msg("a"), msg("x", "other"), msg("b")], handlerFor, decode);
  t.deepEqual(plan.ignored.map((m) => m.id), ["x"]);
  t.deepEqual(plan.handled.map((m) => m.id), ["a", "b"]);
  t.deepEqual(plan.prepared?.map((p) => p.event), ["event a", "event b"]);
});

test("a redelivery or undecodable bytes send the whole batch one by one (no prepared events)", (t) => {
  const redelivered = planBatch([msg("a"), msg("b", "known", 2)], handlerFor, decode);
  t.is(redelivered.prepared, undefined);
  t.deepEqual(redelivered.handled.map((m) => m.id), ["a", "b"]);
  const undecodable = planBatch([msg("a"), msg("bad"), msg("x", "other")], handlerFor, decode);
  t.is(undecodable.prepared, undefined);
  t.deepEqual(undecodable.handled.map((m) => m.id), ["a", "bad"]);
  t.deepEqual(undecodable.ignored.map((m) => m.id), ["x"]);
});

test("only ignored messages leave nothing to handle", (t) => {
  const plan = planBatch([msg("x", "other")], handlerFor, decode);
  t.deepEqual(plan.handled, []);
  t.deepEqual(plan.prepared, []);
});

test("an event id new to the inbox is applied once, even when the batch holds two copies", (t) => {
  t.deepEqual(freshInOrder(["e1", "e2", "e1", "e3"], new Set(["e1", "e3"])), [true, false, false, true]);
});

test("failures are retried with a doubling delay up to the cap, then dead-lettered; permanent ones at once", (t) => {
  const policy = { maxDeliver: 5, initialMs: 1000, maxMs: 3000 };
  t.deepEqual(afterFailure(1, new Error("x"), policy), { retryInMs: 1000 });
  t.deepEqual(afterFailure(2, new Error("x"), policy), { retryInMs: 2000 });
  t.deepEqual(afterFailure(3, new Error("x"), policy), { retryInMs: 3000 });
  t.is(afterFailure(5, new Error("x"), policy), "dead-letter");
  t.is(afterFailure(1, Object.assign(new Error("x"), { permanent: true }), policy), "dead-letter");
});
