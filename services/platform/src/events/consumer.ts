import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AckPolicy, DeliverPolicy, headers as natsHeaders, nanos, type ConsumerMessages, type JsMsg, type MsgHdrs, type NatsConnection } from "nats";
import type { Registry } from "prom-client";
import type { Database, EntityManager } from "../data/database.ts";
import type { Logger } from "../logger.ts";
import { consumerMetrics } from "./event-metrics.ts";
import { checkDurable, dlqSubject, EventContractError, eventTypeHeader, subjectFor } from "./subjects.ts";
import { contextFromMessage } from "./trace-headers.ts";

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

/** Headers of a dead-lettered copy, describing where it came from and why it was given up on. */
export const dlqHeaders = {
  subject: "Bazaar-Dlq-Subject",
  stream: "Bazaar-Dlq-Stream",
  streamSequence: "Bazaar-Dlq-Stream-Sequence",
  consumer: "Bazaar-Dlq-Consumer",
  deliveries: "Bazaar-Dlq-Deliveries",
  error: "Bazaar-Dlq-Error",
  messageId: "Bazaar-Dlq-Msg-Id",
} as const;

/**
 * Runs a durable pull consumer (explicit ack). Each message is decoded by its type header, and its
 * handler runs in one transaction with the insert of its event id into the inbox; a message whose id
 * is already there is acknowledged without running the handler. A failure is nak'ed with backoff;
 * after maxDeliver deliveries the message is copied to `bazaar.dlq.<durable>` and terminated.
 *
 * JetStream's own max_deliver is left unlimited on purpose: the limit is enforced here, so a message
 * leaves the consumer only once its dead-letter copy has been acknowledged.
 */
export async function consume(options: ConsumeOptions): Promise<Consumer> {
  const { database, stream, durable } = options;
  checkDurable(durable);
  const ackWaitMs = positive("ackWaitMs", options.ackWaitMs ?? 30_000);
  const maxDeliver = positive("maxDeliver", options.maxDeliver ?? 5);
  const retryInitialMs = positive("retryBackoff.initialMs", options.retryBackoff?.initialMs ?? 1000);
  const retryMaxMs = positive("retryBackoff.maxMs", options.retryBackoff?.maxMs ?? 60_000);
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
  const tracer = trace.getTracer("@bazaar/platform");
  const jsm = await options.nats.jetstreamManager();
  const js = options.nats.jetstream();

  // Several filter subjects need NATS 2.10; before that the consumer reads the whole stream (one per
  // domain) and acknowledges the types it has no handler for.
  const filter =
    filterSubjects.length === 1
      ? { filter_subject: filterSubjects[0] }
      : supportsMultipleFilters(options.nats.info?.version)
        ? { filter_subjects: filterSubjects }
        : {};

  async function ensureConsumer(): Promise<void> {
    const config = { ack_wait: nanos(ackWaitMs), max_deliver: -1, max_ack_pending: Math.max(1000, concurrency * 10), ...filter };
    let exists = true;
    try {
      await jsm.consumers.info(stream, durable);
    } catch (error) {
      const message = String((error as Error).message);
      if (/stream not found/i.test(message)) throw new Error(`stream ${stream} does not exist: call ensureStreams at start`, { cause: error });
      if (!/consumer not found/i.test(message)) throw error;
      exists = false;
    }
    if (exists) {
      await jsm.consumers.update(stream, durable, config);
      return;
    }
    try {
      const deliver_policy = options.startAt === "new" ? DeliverPolicy.New : DeliverPolicy.All;
      await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy, ...config });
    } catch (error) {
      // Another instance created it a moment ago; make ours agree.
      if (!/already (exists|in use)/i.test(String((error as Error).message))) throw error;
      await jsm.consumers.update(stream, durable, config);
    }
  }

  async function deadLetter(message: JsMsg, reason: unknown): Promise<void> {
    const headers = natsHeaders();
    for (const key of message.headers?.keys() ?? []) {
      if (/^nats-/i.test(key)) continue;
      for (const value of message.headers!.values(key)) headers.append(key, value);
    }
    headers.set(dlqHeaders.subject, message.subject);
    headers.set(dlqHeaders.stream, message.info.stream);
    headers.set(dlqHeaders.streamSequence, String(message.info.streamSequence));
    headers.set(dlqHeaders.consumer, durable);
    headers.set(dlqHeaders.deliveries, String(message.info.deliveryCount));
    headers.set(dlqHeaders.error, oneLine(reason));
    const originalId = message.headers?.get("Nats-Msg-Id");
    if (originalId) headers.set(dlqHeaders.messageId, originalId);
    // The id makes a repeated attempt (ack lost, crash before term) land once.
    await js.publish(dlqSubject(durable), message.data, { headers, msgID: `${durable}:${message.info.stream}:${message.info.streamSequence}` });
    // No reason argument: servers before 2.11 ignore a "+TERM <reason>" entirely.
    message.term();
  }

  function handlerFor(headers: MsgHdrs | undefined, subject: string): EventHandler | undefined {
    const typeName = headers?.get(eventTypeHeader);
    return typeName ? byType.get(typeName) : bySubject.get(subject);
  }

  async function handle(message: JsMsg): Promise<void> {
    const handler = handlerFor(message.headers, message.subject);
    const typeName = handler?.schema.typeName ?? message.headers?.get(eventTypeHeader) ?? "unknown";
    if (!handler) {
      log.debug({ subject: message.subject, type: typeName }, "no handler for this event type; acknowledged");
      metrics.handled.inc({ consumer: durable, type: typeName, outcome: "ignored" });
      message.ack();
      return;
    }
    await traced(message, undefined, async () => {
      const started = performance.now();
      // Keeps JetStream from redelivering while a slow handler is still at work.
      const keepAlive = setInterval(() => message.working(), Math.max(100, ackWaitMs / 3));
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
          const inserted = await em.execute<{ inserted: number }[]>(
            "insert into platform_inbox (consumer, event_id, subject, stream_sequence) values (?, ?, ?, ?) on conflict do nothing returning 1 as inserted",
            [durable, eventId, message.subject, message.info.streamSequence],
            "all",
          );
          if (inserted.length === 0) return false;
          await handler.handle(event, { em, eventId, message });
          return true;
        });
        message.ack();
        metrics.handled.inc({ consumer: durable, type: typeName, outcome: applied ? "applied" : "duplicate" });
        if (!applied) log.debug({ eventId, subject: message.subject }, "already applied; acknowledged without running the handler");
      } catch (error) {
        const span = trace.getActiveSpan();
        span?.recordException(error as Error);
        span?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        await fail(message, typeName, error);
      } finally {
        clearInterval(keepAlive);
        metrics.handleDuration.observe({ consumer: durable, type: typeName }, (performance.now() - started) / 1000);
      }
    });
  }

  /**
   * The ordered fast path: messages that arrived together are applied in one transaction (one inbox
   * insert for all, then each handler in stream order, each in its own consumer span), then acked.
   * Any failure rolls the whole batch back and the messages go one by one through `handle`, which
   * owns retries and dead-lettering; so a handler may run again after a rollback — as with any
   * redelivery, effects outside the transaction must be idempotent.
   */
  async function handleBatch(all: JsMsg[]): Promise<void> {
    // Types this consumer has no handler for (a whole domain's stream is read before NATS 2.10) are
    // only acknowledged, as `handle` does: they neither hold the batch up nor send it the careful way.
    const batch: JsMsg[] = [];
    for (const message of all) {
      if (handlerFor(message.headers, message.subject)) batch.push(message);
      else await handle(message);
    }
    if (batch.length === 0) return;
    const prepared: { message: JsMsg; handler: EventHandler; event: MessageShape<DescMessage>; eventId: string }[] = [];
    for (const message of batch) {
      const handler = handlerFor(message.headers, message.subject)!;
      let event: MessageShape<DescMessage> | undefined;
      try {
        event = message.info.deliveryCount === 1 ? fromBinary(handler.schema, message.data) : undefined;
      } catch {
        event = undefined;
      }
      // Undecodable bytes and redeliveries take the careful path.
      if (!event) {
        for (const m of batch) await handle(m);
        return;
      }
      prepared.push({ message, handler, event, eventId: eventIdOf(event, message) });
    }
    const started = performance.now();
    const keepAlive = setInterval(() => batch.forEach((m) => m.working()), Math.max(100, ackWaitMs / 3));
    try {
      const applied = await database.transaction(async (em) => {
        const values = prepared.map(() => "(?, ?, ?, ?)").join(", ");
        const params = prepared.flatMap((p) => [durable, p.eventId, p.message.subject, p.message.info.streamSequence]);
        const rows = await em.execute<{ event_id: string }[]>(
          `insert into platform_inbox (consumer, event_id, subject, stream_sequence) values ${values} on conflict do nothing returning event_id`,
          params,
          "all",
        );
        const fresh = new Set(rows.map((row) => row.event_id));
        const outcome: boolean[] = [];
        for (const p of prepared) {
          // A copy of an event seen earlier in this same batch counts once, like any duplicate.
          const apply = fresh.delete(p.eventId);
          outcome.push(apply);
          if (apply) await traced(p.message, p.eventId, () => p.handler.handle(p.event, { em, eventId: p.eventId, message: p.message }));
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
      log.debug({ err: error, size: batch.length }, "batch rolled back; handling its messages one by one");
      for (const message of batch) await handle(message);
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Runs `fn` in a consumer span continuing the trace carried by the message's headers. */
  function traced<T>(message: JsMsg, eventId: string | undefined, fn: () => Promise<T>): Promise<T> {
    metrics.deliveryLag.observe({ consumer: durable }, Math.max(0, Date.now() - message.info.timestampNanos / 1e6) / 1000);
    return tracer.startActiveSpan(
      `process ${message.subject}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          "messaging.system": "nats",
          "messaging.operation.type": "process",
          "messaging.destination.name": message.subject,
          "messaging.consumer.group.name": durable,
          "messaging.message.delivery_count": message.info.deliveryCount,
          "messaging.nats.stream_sequence": message.info.streamSequence,
          ...(eventId ? { "messaging.message.id": eventId } : {}),
        },
      },
      contextFromMessage(message.headers),
      async (span) => {
        try {
          return await fn();
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  async function fail(message: JsMsg, typeName: string, error: unknown): Promise<void> {
    const deliveries = message.info.deliveryCount;
    const context = { err: error, subject: message.subject, streamSequence: message.info.streamSequence, deliveries };
    if (deliveries < maxDeliver && !(error as { permanent?: boolean }).permanent) {
      const delay = Math.min(retryMaxMs, retryInitialMs * 2 ** Math.min(deliveries - 1, 30));
      log.warn({ ...context, retryInMs: delay }, "event handler failed; will retry");
      message.nak(delay);
      metrics.handled.inc({ consumer: durable, type: typeName, outcome: "retried" });
      return;
    }
    try {
      await deadLetter(message, error);
      log.error({ ...context, dlq: dlqSubject(durable) }, "event handler gave up; message moved to the dead-letter stream");
      metrics.handled.inc({ consumer: durable, type: typeName, outcome: "dead_lettered" });
    } catch (dlqError) {
      // Not terminated: it comes back and is tried again (and dead-lettered again) later.
      log.error({ ...context, dlqError }, "could not dead-letter the message; it will be redelivered");
      message.nak(retryMaxMs);
    }
  }

  await ensureConsumer();
  const consumer = await js.consumers.get(stream, durable);

  /**
   * In ordered mode (concurrency 1), the messages already received when one is taken form a batch
   * (at most maxBatch), so a busy stream costs one transaction per batch, not per message; nothing
   * waits for a batch to fill. With concurrency above 1, batches of one.
   */
  async function* batches(messages: ConsumerMessages): AsyncGenerator<JsMsg[]> {
    const iterator = messages[Symbol.asyncIterator]();
    const notYet = Symbol("not yet");
    let carried: Promise<IteratorResult<JsMsg>> | undefined;
    for (;;) {
      const first = await (carried ?? iterator.next());
      carried = undefined;
      if (first.done) return;
      const batch = [first.value];
      let ended = false;
      while (concurrency === 1 && batch.length < maxBatch) {
        const next = iterator.next();
        // A message already buffered resolves before the next turn of the event loop.
        const ready = await Promise.race([next, new Promise<typeof notYet>((resolve) => setImmediate(resolve, notYet))]);
        if (ready === notYet) {
          carried = next;
          break;
        }
        if (ready.done) {
          ended = true;
          break;
        }
        batch.push(ready.value);
      }
      yield batch;
      if (ended) return;
    }
  }

  let stopping = false;
  let messages: ConsumerMessages | undefined;
  const inFlight = new Set<Promise<void>>();

  async function run(): Promise<void> {
    while (!stopping) {
      try {
        messages = await consumer.consume({ max_messages: Math.max(maxBatch * 2, concurrency * 2) });
        if (stopping) await messages.close();
        for await (const batch of batches(messages)) {
          if (stopping) {
            for (const message of batch) message.nak(); // someone else (or our next start) takes them at once
            continue;
          }
          const task: Promise<void> = (concurrency === 1 && batch.length > 1 ? handleBatch(batch) : handle(batch[0]!))
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
      await ensureConsumer().catch((e: unknown) => log.warn({ err: e }, "could not re-create the consumer"));
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
    try {
      await database.em().execute("delete from platform_inbox where consumer = ? and processed_at < clock_timestamp() - make_interval(secs => ?)", [
        durable,
        inboxRetentionMs / 1000,
      ]);
    } catch (error) {
      log.debug({ err: error }, "inbox pruning failed");
    }
  }

  const running = run();
  void housekeeping();
  const timer = setInterval(() => void housekeeping(), lagIntervalMs);
  timer.unref();
  log.info({ filter, maxDeliver, ackWaitMs, concurrency }, "consuming");

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

function eventIdOf(event: MessageShape<DescMessage>, message: JsMsg): string {
  const id = (event as unknown as Record<string, unknown>).eventId;
  if (typeof id === "string" && id !== "") return id;
  return message.headers?.get("Nats-Msg-Id") || `${message.info.stream}:${message.info.streamSequence}`;
}

function supportsMultipleFilters(version: string | undefined): boolean {
  const [major = 0, minor = 0] = (version ?? "").split(".").map(Number);
  return major > 2 || (major === 2 && minor >= 10);
}

function oneLine(reason: unknown): string {
  const text = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  return text.replace(/[\r\n]+/g, " ").slice(0, 500);
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`consumer option ${name} must be a positive number, got ${value}`);
  return value;
}
