// A durable, idempotent event consumer, composed from its parts: durable setup (durable.ts), the inbox
// (inbox.ts), dead letters (dead-letters.ts), batching (batching.ts) and event tracing (event-tracing.ts).
import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { trace } from "@opentelemetry/api";
import type { ConsumerMessages, JsMsg, NatsConnection } from "nats";
import type { Registry } from "prom-client";
import type { Database, EntityManager } from "../data/database.ts";
import type { Logger } from "../logger.ts";
import { batches, freshInOrder, planBatch } from "./batching.ts";
import { afterFailure, deadLetter } from "./dead-letters.ts";
import { durableFilter, ensureDurable } from "./durable.ts";
import { consumerMetrics } from "./event-metrics.ts";
import { recordFailure, tracedDelivery } from "./event-tracing.ts";
import { eventIdOf, pruneInbox, recordInInbox } from "./inbox.ts";
import { checkDurable, dlqSubject, EventContractError, eventTypeHeader, subjectFor } from "./subjects.ts";

export { dlqHeaders } from "./dead-letters.ts";

export interface HandlerContext {
  /** Inside the transaction that also records the message in the inbox: use it for every effect. */
  em: EntityManager;
  /** The id recorded in the inbox: the event's event_id (else its Nats-Msg-Id). */
  eventId: string;
  message: JsMsg;
}

export type EventHandlerFn<Desc extends DescMessage> = (event: MessageShape<Desc>, context: HandlerContext) => Promise<void>;

export interface EventHandler {
  schema: DescMessage;
  handle: EventHandlerFn<DescMessage>;
}

/** Pairs an event type with its handler, typed: `onEvent(OrderPlacedSchema, async (event, { em }) => …)`. */
export function onEvent<Desc extends DescMessage>(schema: Desc, handle: EventHandlerFn<Desc>): EventHandler {
  return { schema, handle: handle as EventHandlerFn<DescMessage> };
}

export interface ConsumeOptions {
  /** Give it `maxReconnectAttempts: -1`: consumers resume by themselves when NATS comes back. */
  nats: NatsConnection;
  database: Database;
  /** Stream to read, e.g. streamName("order") = "BAZAAR_ORDER"; ensureStreams must have created it. */
  stream: string;
  /** Durable consumer name: survives restarts, shared by a service's instances, keys the inbox and the DLQ subject. */
  durable: string;
  /**
   * Where the durable starts when it is created for the first time: the stream's whole history ("all",
   * default) or only events published from then on ("new"). An existing durable keeps its position.
   */
  startAt?: "all" | "new";
  /** Default: the subjects of the handled event types. Messages of other types are acknowledged and ignored. */
  filterSubjects?: string[];
  handlers: readonly EventHandler[];
  /** Time a delivery may stay unacknowledged before JetStream redelivers it (kept alive while the handler runs). Default 30 s. */
  ackWaitMs?: number;
  /** Deliveries before a failing message is moved to the dead-letter stream. Default 5. */
  maxDeliver?: number;
  /** Redelivery delay after a failure, doubling from initialMs up to maxMs. Default 1 s → 60 s. */
  retryBackoff?: { initialMs?: number; maxMs?: number };
  /**
   * Messages handled at once. Default 1: in stream order (redeliveries aside), messages already
   * received applied together in one transaction (see maxBatch).
   */
  concurrency?: number;
  /** In ordered mode, most messages applied in one transaction. Default 64; 1 for one transaction each. */
  maxBatch?: number;
  /** How often the lag gauges are refreshed from the consumer's info. Default 5000 ms. */
  lagIntervalMs?: number;
  /**
   * Inbox rows older than this are deleted (hourly). A copy arriving later would be applied again, so
   * keep it beyond any redelivery or republication horizon. Default 7 days.
   */
  inboxRetentionMs?: number;
  logger: Logger;
  registry: Registry;
}

export interface Consumer {
  /** Stops fetching and waits for the handlers in flight; undelivered messages stay in the stream. */
  stop(): Promise<void>;
}

/**
 * Runs a durable pull consumer (explicit ack). Each message is decoded by its type header, and its
 * handler runs in one transaction with the insert of its event id into the inbox; a message whose id
 * is already there is acknowledged without running the handler. A failure is nak'ed with backoff;
 * after maxDeliver deliveries the message is copied to `bazaar.dlq.<durable>` and terminated.
 */
export async function consume(options: ConsumeOptions): Promise<Consumer> {
  const { database, stream, durable } = options;
  checkDurable(durable);
  const ackWaitMs = positive("ackWaitMs", options.ackWaitMs ?? 30_000);
  const retry = {
    maxDeliver: positive("maxDeliver", options.maxDeliver ?? 5),
    initialMs: positive("retryBackoff.initialMs", options.retryBackoff?.initialMs ?? 1000),
    maxMs: positive("retryBackoff.maxMs", options.retryBackoff?.maxMs ?? 60_000),
  };
  const concurrency = positive("concurrency", options.concurrency ?? 1);
  const maxBatch = positive("maxBatch", options.maxBatch ?? 64);
  const lagIntervalMs = positive("lagIntervalMs", options.lagIntervalMs ?? 5000);
  const inboxRetentionMs = positive("inboxRetentionMs", options.inboxRetentionMs ?? 7 * 24 * 3600_000);
  if (options.handlers.length === 0) throw new EventContractError(`consumer ${durable} has no handlers`);

  const byType = new Map<string, EventHandler>();
  const bySubject = new Map<string, EventHandler>();
  for (const handler of options.handlers) {
    if (byType.has(handler.schema.typeName)) throw new EventContractError(`consumer ${durable} has two handlers for ${handler.schema.typeName}`);
    byType.set(handler.schema.typeName, handler);
    bySubject.set(subjectFor(handler.schema.typeName), handler);
  }
  const filterSubjects = options.filterSubjects ?? [...bySubject.keys()];
  if (filterSubjects.length === 0) throw new EventContractError(`consumer ${durable} has an empty filterSubjects`);

  const log = options.logger.child({ component: "event-consumer", consumer: durable, stream });
  const metrics = consumerMetrics(options.registry);
  const jsm = await options.nats.jetstreamManager();
  const js = options.nats.jetstream();
  const durableOptions = { stream, durable, filterSubjects, serverVersion: options.nats.info?.version, ackWaitMs, concurrency, startAt: options.startAt };

  const handlerFor = (message: JsMsg): EventHandler | undefined => {
    const typeName = message.headers?.get(eventTypeHeader);
    return typeName ? byType.get(typeName) : bySubject.get(message.subject);
  };
  // Keeps JetStream from redelivering while a slow handler is still at work.
  const keepAlive = (messages: JsMsg[]) => setInterval(() => messages.forEach((m) => m.working()), Math.max(100, ackWaitMs / 3));
  const traced = <T>(message: JsMsg, eventId: string | undefined, fn: () => Promise<T>): Promise<T> => {
    metrics.deliveryLag.observe({ consumer: durable }, Math.max(0, Date.now() - message.info.timestampNanos / 1e6) / 1000);
    return tracedDelivery(durable, message, eventId, fn);
  };

  /** The careful path: one message in its own transaction; owns retries and dead letters. */
  async function handle(message: JsMsg): Promise<void> {
    const handler = handlerFor(message);
    const typeName = handler?.schema.typeName ?? message.headers?.get(eventTypeHeader) ?? "unknown";
    if (!handler) {
      log.debug({ subject: message.subject, type: typeName }, "no handler for this event type; acknowledged");
      metrics.handled.inc({ consumer: durable, type: typeName, outcome: "ignored" });
      message.ack();
      return;
    }
    await traced(message, undefined, async () => {
      const started = performance.now();
      const timer = keepAlive([message]);
      try {
        let event: MessageShape<DescMessage>;
        try {
          event = fromBinary(handler.schema, message.data);
        } catch (error) {
          // Retrying cannot make these bytes decode: straight to the dead-letter stream.
          throw Object.assign(new Error(`cannot decode ${typeName}: ${(error as Error).message}`, { cause: error }), { permanent: true });
        }
        const eventId = eventIdOf(event, message);
        trace.getActiveSpan()?.setAttribute("messaging.message.id", eventId);
        const applied = await database.transaction(async (em) => {
          const fresh = await recordInInbox(em, durable, [{ eventId, subject: message.subject, streamSequence: message.info.streamSequence }]);
          if (fresh.size === 0) return false;
          await handler.handle(event, { em, eventId, message });
          return true;
        });
        message.ack();
        metrics.handled.inc({ consumer: durable, type: typeName, outcome: applied ? "applied" : "duplicate" });
        if (!applied) log.debug({ eventId, subject: message.subject }, "already applied; acknowledged without running the handler");
      } catch (error) {
        recordFailure(trace.getActiveSpan(), error);
        await fail(message, typeName, error);
      } finally {
        clearInterval(timer);
        metrics.handleDuration.observe({ consumer: durable, type: typeName }, (performance.now() - started) / 1000);
      }
    });
  }

  /**
   * The ordered fast path: messages that arrived together are applied in one transaction (one inbox
   * insert for all, then each handler in stream order, each in its own consumer span), then acked.
   * Any failure rolls the whole batch back and the messages go one by one through `handle`; so a
   * handler may run again after a rollback — as with any redelivery, effects outside the
   * transaction must be idempotent.
   */
  async function handleBatch(all: JsMsg[]): Promise<void> {
    const plan = planBatch(all, handlerFor, (handler, message) => fromBinary(handler.schema, message.data));
    // Types without a handler are only acknowledged: they neither hold the batch up nor break it up.
    for (const message of plan.ignored) await handle(message);
    if (plan.handled.length === 0) return;
    if (!plan.prepared) {
      for (const message of plan.handled) await handle(message);
      return;
    }
    const prepared = plan.prepared.map((p) => ({ ...p, eventId: eventIdOf(p.event, p.message) }));
    const started = performance.now();
    const timer = keepAlive(plan.handled);
    try {
      const applied = await database.transaction(async (em) => {
        const entries = prepared.map((p) => ({ eventId: p.eventId, subject: p.message.subject, streamSequence: p.message.info.streamSequence }));
        const outcome = freshInOrder(entries.map((e) => e.eventId), await recordInInbox(em, durable, entries));
        for (const [i, p] of prepared.entries()) {
          if (outcome[i]) await traced(p.message, p.eventId, () => p.handler.handle(p.event, { em, eventId: p.eventId, message: p.message }));
        }
        return outcome;
      });
      const seconds = (performance.now() - started) / 1000 / prepared.length;
      prepared.forEach((p, i) => {
        p.message.ack();
        metrics.handled.inc({ consumer: durable, type: p.handler.schema.typeName, outcome: applied[i] ? "applied" : "duplicate" });
        metrics.handleDuration.observe({ consumer: durable, type: p.handler.schema.typeName }, seconds);
      });
    } catch (error) {
      log.debug({ err: error, size: plan.handled.length }, "batch rolled back; handling its messages one by one");
      for (const message of plan.handled) await handle(message);
    } finally {
      clearInterval(timer);
    }
  }

  async function fail(message: JsMsg, typeName: string, error: unknown): Promise<void> {
    const deliveries = message.info.deliveryCount;
    const context = { err: error, subject: message.subject, streamSequence: message.info.streamSequence, deliveries };
    const next = afterFailure(deliveries, error, retry);
    if (next !== "dead-letter") {
      log.warn({ ...context, retryInMs: next.retryInMs }, "event handler failed; will retry");
      message.nak(next.retryInMs);
      metrics.handled.inc({ consumer: durable, type: typeName, outcome: "retried" });
      return;
    }
    try {
      await deadLetter(js, durable, message, error);
      log.error({ ...context, dlq: dlqSubject(durable) }, "event handler gave up; message moved to the dead-letter stream");
      metrics.handled.inc({ consumer: durable, type: typeName, outcome: "dead_lettered" });
    } catch (dlqError) {
      // Not terminated: it comes back and is tried again (and dead-lettered again) later.
      log.error({ ...context, dlqError }, "could not dead-letter the message; it will be redelivered");
      message.nak(retry.maxMs);
    }
  }

  await ensureDurable(jsm, durableOptions);
  const consumer = await js.consumers.get(stream, durable);

  let stopping = false;
  let messages: ConsumerMessages | undefined;
  const inFlight = new Set<Promise<void>>();

  async function run(): Promise<void> {
    while (!stopping) {
      try {
        messages = await consumer.consume({ max_messages: Math.max(maxBatch * 2, concurrency * 2) });
        if (stopping) await messages.close();
        // Ordered (concurrency 1): what already arrived forms one batch, one transaction, not one per message.
        for await (const batch of batches(messages, { maxBatch, ordered: concurrency === 1 })) {
          if (stopping) {
            for (const message of batch) message.nak(); // someone else (or our next start) takes them at once
            continue;
          }
          const task: Promise<void> = (batch.length > 1 ? handleBatch(batch) : handle(batch[0]!))
            .catch((error: unknown) => log.error({ err: error }, "event handling failed unexpectedly"))
            .finally(() => inFlight.delete(task));
          inFlight.add(task);
          while (inFlight.size >= concurrency) await Promise.race(inFlight);
        }
        if (stopping) break;
        log.warn("consumer stopped receiving; resubscribing");
      } catch (error) {
        if (stopping) break;
        log.warn({ err: error }, "consumer stopped receiving; resubscribing");
      }
      // E.g. the consumer was deleted: wait a little, put it back, and pull again.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await ensureDurable(jsm, durableOptions).catch((e: unknown) => log.warn({ err: e }, "could not re-create the consumer"));
    }
  }

  let lastPrune = 0;
  async function housekeeping(): Promise<void> {
    try {
      const info = await consumer.info();
      metrics.lag.set({ stream, consumer: durable }, info.num_pending);
      metrics.ackPending.set({ stream, consumer: durable }, info.num_ack_pending);
    } catch (error) {
      log.debug({ err: error }, "consumer info failed");
    }
    if (Date.now() - lastPrune < 3600_000) return;
    lastPrune = Date.now();
    await pruneInbox(database, durable, inboxRetentionMs).catch((error: unknown) => log.debug({ err: error }, "inbox pruning failed"));
  }

  const running = run();
  void housekeeping();
  const timer = setInterval(() => void housekeeping(), lagIntervalMs);
  timer.unref();
  log.info({ filter: durableFilter(filterSubjects, durableOptions.serverVersion), maxDeliver: retry.maxDeliver, ackWaitMs, concurrency }, "consuming");

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(timer);
        await messages?.close();
        await running;
        await Promise.allSettled([...inFlight]);
      })();
      return stopped;
    },
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`consumer option ${name} must be a positive number, got ${value}`);
  return value;
}
