// Deletes quotes long expired, in the background. Expired quotes are kept a while (retention) so that
// a late checkout hears "expired" rather than "unknown".
import { startPeriodic, type BackgroundTask, type Logger } from "@bazaar/platform";
import type { Quotes } from "./quotes.ts";

export function startQuoteSweeper(options: { quotes: Quotes; logger: Logger; intervalMs: number; retentionSeconds: number }): BackgroundTask {
  const periodic = startPeriodic({
    intervalMs: options.intervalMs,
    logger: options.logger,
    what: "shipping quote sweep",
    async run() {
      const deleted = await options.quotes.sweep(options.retentionSeconds);
      if (deleted > 0) options.logger.info({ deleted }, "expired shipping quotes deleted");
      return deleted;
    },
  });
  return { stop: periodic.stop };
}
