// The sender: claims due messages (FOR UPDATE SKIP LOCKED, so instances share the work), renders them,
// opens their sealed links only now, hands them to their channel's provider and records the outcome.
// A failed attempt is retried with exponential backoff; after NOTIFICATION_MAX_ATTEMPTS the message is
// failed, with its last error, for staff to see. A claimed message is leased (next_attempt_at moves past
// the longest attempt), so a crashed instance's claims come back by themselves.
import { query, startPeriodic, type BackgroundTask, type Database, type Logger, type Opener, type Registry } from "@bazaar/platform";
import { Counter, Gauge, Histogram } from "prom-client";
import type { SealedLink } from "./messages.ts";
import type { ChannelProvider } from "./providers.ts";
import type { Templates } from "./templates.ts";
import type { Channel } from "./topics.ts";

export interface SenderOptions {
  database: Database;
  templates: Templates;
  providers: Partial<Record<Channel, ChannelProvider>>;
  opener: Opener;
  logger: Logger;
  registry: Registry;
  maxAttempts: number;
  retryInitialMs: number;
  retryMaxMs: number;
  concurrency: number;
  pollMs: number;
}

export interface Sender extends BackgroundTask {
  /** Looks for due messages now (after new ones were queued). */
  wake(): void;
}

/** Longer than any one attempt (SMTP timeouts): a claim is not taken over while it may still succeed. */
const LEASE_SECONDS = 120;

type ClaimedRow = {
  id: string;
  channel: Channel;
  recipient: string;
  template: string;
  locale: string;
  topic: string;
  subject: string;
  data: Record<string, unknown> & { $sealed?: SealedLink[] };
  attempts: number;
  created_at: Date | string;
};

/** Exponential backoff with ±20% jitter, so that retries after an outage do not arrive as one wave. */
export function retryDelayMs(attempts: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export function startSender(options: SenderOptions): Sender {
  const { database, templates, providers, opener, logger } = options;
  const log = logger.child({ component: "notification-sender" });
  const outcomes = new Counter({ name: "bazaar_notification_attempts_total", help: "Send attempts, by channel and outcome (sent, retry, failed)", labelNames: ["channel", "outcome"], registers: [options.registry] });
  const latency = new Histogram({
    name: "bazaar_notification_delivery_seconds",
    help: "From a message being queued to its provider accepting it",
    labelNames: ["channel"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [options.registry],
  });

  // Messages waiting and failed for good, refreshed after each round (the index on status keeps it cheap).
  const backlog = new Gauge({ name: "bazaar_notification_messages", help: "Messages queued (waiting or retrying) and failed, by status", labelNames: ["status"], registers: [options.registry] });
  async function refreshBacklog(): Promise<void> {
    const rows = await query<{ status: string; n: string }>(
      database.em(),
      "select s.status, (select count(*) from message m where m.status = s.status) as n from (values ('queued'), ('failed')) as s (status)",
    );
    for (const row of rows) backlog.set({ status: row.status }, Number(row.n));
  }

  async function claim(limit: number): Promise<ClaimedRow[]> {
    return database.transaction((em) =>
      query<ClaimedRow>(
        em,
        `update message m set attempts = m.attempts + 1, next_attempt_at = clock_timestamp() + make_interval(secs => ?)
          where m.id in (select id from message where status = 'queued' and next_attempt_at <= clock_timestamp()
                          order by next_attempt_at limit ? for update skip locked)
          returning m.id, m.channel, m.recipient, m.template, m.locale, m.topic, m.subject, m.data, m.attempts, m.created_at`,
        [LEASE_SECONDS, limit],
      ),
    );
  }

  async function materialise(row: ClaimedRow): Promise<Record<string, unknown>> {
    const { $sealed, ...data } = row.data;
    for (const link of $sealed ?? []) data[link.field] = `${link.prefix}${encodeURIComponent(await opener.open(link.sealedToken, link.purpose))}`;
    return data;
  }

  async function attempt(row: ClaimedRow): Promise<void> {
    const provider = providers[row.channel];
    try {
      if (!provider) throw new Error(`no provider for ${row.channel}`);
      const data = await materialise(row);
      const rendered = await templates.render(row.template, row.locale, data);
      const oneClickUnsubscribeUrl = typeof data.oneClickUrl === "string" && data.oneClickUrl ? data.oneClickUrl : undefined;
      const { providerMessageId } = await provider.send({
        id: row.id,
        channel: row.channel,
        recipient: row.recipient,
        ...rendered,
        short: rendered.short ?? rendered.subject,
        ...(oneClickUnsubscribeUrl ? { oneClickUnsubscribeUrl } : {}),
      });
      await database.transaction((em) =>
        query(em, "update message set status = 'sent', sent_at = clock_timestamp(), provider_message_id = ?, last_error = '' where id = ?", [providerMessageId, row.id]),
      );
      outcomes.inc({ channel: row.channel, outcome: "sent" });
      latency.observe({ channel: row.channel }, (Date.now() - new Date(row.created_at).getTime()) / 1000);
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
      const failed = row.attempts >= options.maxAttempts;
      await database.transaction((em) =>
        failed
          ? query(em, "update message set status = 'failed', last_error = ? where id = ?", [reason, row.id])
          : query(em, "update message set next_attempt_at = clock_timestamp() + make_interval(secs => ?), last_error = ? where id = ?", [
              retryDelayMs(row.attempts, options.retryInitialMs, options.retryMaxMs) / 1000,
              reason,
              row.id,
            ]),
      );
      outcomes.inc({ channel: row.channel, outcome: failed ? "failed" : "retry" });
      (failed ? log.error.bind(log) : log.warn.bind(log))({ message_id: row.id, attempts: row.attempts, err: error }, failed ? "message failed for good" : "send failed; will retry");
    }
  }

  // One round: claim and send batches until none is due; `concurrency` messages in flight.
  async function round(stopped: () => boolean): Promise<number> {
    let sent = 0;
    for (;;) {
      const batch = await claim(options.concurrency * 4);
      if (batch.length === 0) {
        await refreshBacklog();
        return sent;
      }
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(options.concurrency, batch.length) }, async () => {
          while (next < batch.length) await attempt(batch[next++]!);
        }),
      );
      sent += batch.length;
      if (stopped()) return sent;
    }
  }

  const periodic = startPeriodic({ run: round, intervalMs: options.pollMs, firstRunMs: 0, logger: log, what: "notification sending" });
  // runNow joins a round under way, which may have made its last claim before the new messages
  // committed: a wake-up therefore always ends with a round that started after it (the second runNow).
  let waking: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  return {
    wake() {
      again = true;
      waking ??= (async () => {
        while (again && !stopped) {
          again = false;
          await periodic.runNow().catch(() => undefined);
          await periodic.runNow().catch(() => undefined);
        }
      })().finally(() => (waking = undefined));
    },
    async stop() {
      stopped = true;
      await waking;
      await periodic.stop();
    },
  };
}
