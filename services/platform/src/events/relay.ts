import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { headers as natsHeaders, type NatsConnection } from "nats";
import pg from "pg";
import type { Registry } from "prom-client";
import type { Database } from "../data/database.ts";
import type { Logger } from "../logger.ts";
import { outboxMetrics } from "./event-metrics.ts";
import { eventTypeHeader } from "./subjects.ts";
import { contextFromRecord, injectIntoMessage } from "./trace-headers.ts";

export interface RelayOptions {
  database: Database;
  /** Give it `maxReconnectAttempts: -1`: the relay outlives NATS outages by retrying, not by reconnecting itself. */
  nats: NatsConnection;
  logger: Logger;
  registry: Registry;
  /** Rows claimed (and published concurrently) per round. Default 100. */
  batchSize?: number;
  /** Safety net when a NOTIFY is missed (LISTEN connection down): look for rows this often. Default 1000 ms. */
  pollIntervalMs?: number;
  /** How long to wait for each PubAck. Default 5000 ms. */
  publishTimeoutMs?: number;
  /** Retry delay after a failed round, doubling from initialMs up to maxMs (with jitter). Default 100 ms → 10 s. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Published rows are deleted after this long. Default 24 h. */
  retentionMs?: number;
  /** How often backlog and oldest-age gauges are refreshed. Default 5000 ms. */
  metricsIntervalMs?: number;
}

export interface Relay {
  /** Publishes everything pending now (for shutdown); resolves with the count, rejects if NATS refused some. */
  flush(): Promise<number>;
  /** Stops the relay after the round in flight; unpublished rows stay for the next start. */
  stop(): Promise<void>;
}

interface OutboxRow {
  id: string;
  event_id: string;
  subject: string;
  type_name: string;
  payload: Uint8Array;
  headers: Record<string, string> | null;
  created_at: Date;
}

interface Round {
  claimed: number;
  sent: number;
  error?: unknown;
}

/** Matches the trigger in the platform migration. */
const channel = "platform_outbox";

/**
 * Publishes outbox rows to JetStream in id order, with Nats-Msg-Id = event id, and marks a row sent
 * only after its PubAck. Several relays may share a database: rows are claimed with
 * FOR UPDATE SKIP LOCKED. Woken by LISTEN/NOTIFY on a dedicated connection, with polling as a fallback.
 */
export function createRelay(options: RelayOptions): Relay {
  const { database, logger } = options;
  const batchSize = positive("batchSize", options.batchSize ?? 100);
  const pollIntervalMs = positive("pollIntervalMs", options.pollIntervalMs ?? 1000);
  const publishTimeoutMs = positive("publishTimeoutMs", options.publishTimeoutMs ?? 5000);
  const backoffInitialMs = positive("backoff.initialMs", options.backoff?.initialMs ?? 100);
  const backoffMaxMs = positive("backoff.maxMs", options.backoff?.maxMs ?? 10_000);
  const retentionMs = positive("retentionMs", options.retentionMs ?? 24 * 3600_000);
  const metricsIntervalMs = positive("metricsIntervalMs", options.metricsIntervalMs ?? 5000);

  const js = options.nats.jetstream();
  const connection = database.orm.em.getConnection();
  const metrics = outboxMetrics(options.registry);
  const tracer = trace.getTracer("@bazaar/platform");
  const stopping = new AbortController();
  const log = logger.child({ component: "outbox-relay" });

  // One round at a time per relay: the loop and flush() queue behind each other.
  let chain: Promise<unknown> = Promise.resolve();
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = chain.then(fn);
    chain = result.catch(() => undefined);
    return result;
  }

  // Set by NOTIFY (or a LISTEN reconnect) so that a wake-up during a round is not lost.
  let woken = false;
  let wake: (() => void) | undefined;
  function kick() {
    woken = true;
    wake?.();
  }

  function pause(ms: number, wakeOnKick: boolean): Promise<void> {
    if (stopping.signal.aborted || (wakeOnKick && woken)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stopping.signal.removeEventListener("abort", done);
        if (wake === done) wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      stopping.signal.addEventListener("abort", done);
      if (wakeOnKick) wake = done;
    });
  }

  async function publishRow(row: OutboxRow): Promise<void> {
    const parent = contextFromRecord(row.headers);
    await tracer.startActiveSpan(
      `send ${row.subject}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          "messaging.system": "nats",
          "messaging.operation.type": "send",
          "messaging.destination.name": row.subject,
          "messaging.message.id": row.event_id,
        },
      },
      parent,
      async (span) => {
        try {
          const headers = natsHeaders();
          headers.set(eventTypeHeader, row.type_name);
          injectIntoMessage(trace.setSpan(parent, span), headers);
          const ack = await js.publish(row.subject, row.payload, { msgID: row.event_id, headers, timeout: publishTimeoutMs });
          span.setAttribute("messaging.nats.stream", ack.stream);
          span.setAttribute("messaging.nats.stream_sequence", ack.seq);
          if (ack.duplicate) span.setAttribute("messaging.nats.duplicate", true);
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

  async function publishRound(): Promise<Round> {
    const { round, sent } = await connection.transactional(async (trx) => {
      const rows = await connection.execute<OutboxRow[]>(
        `select id, event_id, subject, type_name, payload, headers, created_at from platform_outbox
          where sent_at is null order by id limit ${batchSize} for update skip locked`,
        [],
        "all",
        trx,
      );
      if (rows.length === 0) return { round: { claimed: 0, sent: 0 }, sent: [] };
      // Published concurrently over one connection, so they reach the stream in id order.
      const results = await Promise.allSettled(rows.map(publishRow));
      const sent = rows.filter((_, i) => results[i]!.status === "fulfilled");
      if (sent.length > 0) {
        const ids = sent.map((row) => String(row.id));
        if (!ids.every((id) => /^\d+$/.test(id))) throw new Error(`unexpected outbox ids ${ids.join(",")}`);
        await connection.execute(`update platform_outbox set sent_at = clock_timestamp() where id in (${ids.join(",")})`, [], "run", trx);
      }
      const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failure) metrics.publishErrors.inc(rows.length - sent.length);
      return { round: { claimed: rows.length, sent: sent.length, error: failure?.reason }, sent };
    });
    // Counted once the rows are marked sent (committed), so the metric never runs ahead of the table.
    if (sent.length > 0) {
      const now = Date.now();
      for (const row of sent) metrics.publishLag.observe(Math.max(0, now - new Date(row.created_at).getTime()) / 1000);
      metrics.published.inc(sent.length);
    }
    return round;
  }

  async function loop(): Promise<void> {
    let failures = 0;
    while (!stopping.signal.aborted) {
      woken = false;
      let round: Round;
      try {
        round = await exclusive(publishRound);
      } catch (error) {
        round = { claimed: 0, sent: 0, error };
      }
      if (round.error !== undefined) {
        failures += 1;
        const delay = Math.min(backoffMaxMs, backoffInitialMs * 2 ** Math.min(failures - 1, 30)) * (0.8 + Math.random() * 0.4);
        log.warn({ err: round.error, unpublished: round.claimed - round.sent, failures, retryInMs: Math.round(delay) }, "outbox publish failed; rows kept for retry");
        await pause(delay, false);
        continue;
      }
      if (failures > 0) log.info({ failures }, "outbox relay recovered");
      failures = 0;
      if (round.claimed < batchSize) await pause(pollIntervalMs, true);
    }
  }

  let listener: pg.Client | undefined;
  async function listen(): Promise<void> {
    let failures = 0;
    while (!stopping.signal.aborted) {
      const client = new pg.Client({ connectionString: database.url, keepAlive: true });
      const closed = new Promise<unknown>((resolve) => {
        client.on("error", resolve);
        client.on("end", () => resolve(undefined));
      });
      client.on("notification", kick);
      try {
        await client.connect();
        await client.query(`listen ${channel}`);
        listener = client;
        if (failures > 0) log.info("outbox LISTEN connection restored");
        failures = 0;
        kick(); // rows committed while we were not listening
        if (stopping.signal.aborted) await client.end();
        const reason = await closed;
        if (!stopping.signal.aborted) log.warn({ err: reason instanceof Error ? reason : undefined }, "outbox LISTEN connection lost; polling until it is back");
      } catch (error) {
        if (failures === 0) log.warn({ err: error }, "outbox LISTEN connection failed; polling until it is back");
      }
      listener = undefined;
      client.removeAllListeners("notification");
      await client.end().catch(() => undefined);
      failures += 1;
      await pause(Math.min(backoffMaxMs, backoffInitialMs * 2 ** Math.min(failures - 1, 30)), false);
    }
  }

  let lastPrune = 0;
  let refreshing = false;
  async function housekeeping(): Promise<void> {
    if (refreshing) return;
    refreshing = true;
    try {
      const [row] = await connection.execute<{ backlog: number; age: number }[]>(
        `select count(*)::int as backlog, coalesce(extract(epoch from clock_timestamp() - min(created_at)), 0)::float8 as age
           from platform_outbox where sent_at is null`,
      );
      metrics.backlog.set(row?.backlog ?? 0);
      metrics.oldestAge.set(row?.age ?? 0);
      if (Date.now() - lastPrune > 60_000) {
        lastPrune = Date.now();
        await connection.execute(
          `delete from platform_outbox where id in (
             select id from platform_outbox where sent_at < clock_timestamp() - make_interval(secs => ${retentionMs / 1000}) limit 10000)`,
        );
      }
    } catch (error) {
      log.debug({ err: error }, "outbox metrics refresh failed");
    } finally {
      refreshing = false;
    }
  }

  const running = loop();
  const listening = listen();
  void housekeeping();
  const timer = setInterval(() => void housekeeping(), metricsIntervalMs);
  timer.unref();

  let stopped: Promise<void> | undefined;
  return {
    async flush() {
      let total = 0;
      for (;;) {
        const round = await exclusive(publishRound);
        total += round.sent;
        if (round.error !== undefined) {
          throw new Error(`outbox flush: ${round.claimed - round.sent} events not published`, { cause: round.error });
        }
        if (round.claimed < batchSize) break;
      }
      await housekeeping();
      return total;
    },
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        clearInterval(timer);
        await listener?.end().catch(() => undefined);
        await Promise.all([running, listening]);
        await chain;
      })();
      return stopped;
    },
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`relay option ${name} must be a positive number, got ${value}`);
  return value;
}
