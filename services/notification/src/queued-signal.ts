// Wakes the sender when a transaction that queued messages commits: PostgreSQL delivers the NOTIFY sent
// by enqueue (messages.ts) at commit, on a dedicated LISTEN connection. While that connection is down
// the sender's polling (NOTIFICATION_POLL_MS) still finds every message.
import pg from "pg";
import type { Logger } from "@bazaar/platform";

export const QUEUED_CHANNEL = "notification_queued";

export interface QueuedSignal {
  stop(): Promise<void>;
}

export function listenForQueued(options: { url: string; onQueued: () => void; logger: Logger; retryMs?: number }): QueuedSignal {
  const log = options.logger.child({ component: "notification-listen" });
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  async function connect(): Promise<void> {
    if (stopped) return;
    const current = new pg.Client({ connectionString: options.url, keepAlive: true });
    client = current;
    const lost = (error?: unknown) => {
      if (stopped || client !== current) return;
      client = undefined;
      log.warn({ err: error instanceof Error ? error : undefined }, "LISTEN connection lost; polling until it is back");
      current.end().catch(() => undefined);
      retry = setTimeout(() => void connect(), options.retryMs ?? 1000).unref();
    };
    current.on("error", lost);
    current.on("end", () => lost());
    current.on("notification", () => options.onQueued());
    try {
      await current.connect();
      await current.query(`listen ${QUEUED_CHANNEL}`);
      options.onQueued(); // messages committed while nobody listened
    } catch (error) {
      lost(error);
    }
  }
  void connect();

  return {
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
