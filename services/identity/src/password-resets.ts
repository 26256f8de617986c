// Password resets answer in the same time whether or not the address has an account: the request only
// queues the address (one insert, whatever it is), and the account is looked up after the answer —
// woken at once, and swept every IDENTITY_RESET_QUEUE_POLL_MS for what a crash left behind.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { publish, sql, startPeriodic, type BackgroundTask, type Database, type EntityManager, type Logger, type Sealer } from "@bazaar/platform";
import { PasswordResetRequestedSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { uuidv7 } from "uuidv7";
import { issueEmailToken } from "./email-tokens.ts";
import { findUserByEmail, tables } from "./users.ts";

const RESET_TTL_SECONDS = 30 * 60;
const BATCH = 50;

export interface PasswordResets extends BackgroundTask {
  /** Queues a reset for the (normalised) `email`, in `em`'s transaction; handled once it commits and wake() is called. */
  queue(em: EntityManager, email: string): Promise<void>;
  /** Handles what is queued soon, outside the caller's time. */
  wake(): void;
  /** Handles every queued request now; resolves with how many were taken. */
  handleQueued(): Promise<number>;
}

export function createPasswordResets(options: { database: Database; sealer: Sealer; logger: Logger; pollMs: number }): PasswordResets {
  const { database, sealer } = options;

  // One batch: the requests are taken (skipping those another instance holds) and each account that
  // exists gets its token and event, in one transaction — a failure leaves them queued.
  const batch = () =>
    database.transaction(async (em) => {
      const taken = await tables(em)
        .deleteFrom("password_reset_requests")
        .where("id", "in", (eb) => eb.selectFrom("password_reset_requests").select("id").orderBy("requested_at").limit(BATCH).forUpdate().skipLocked())
        .returning("email")
        .execute();
      for (const email of new Set(taken.map((row) => row.email))) {
        const user = await findUserByEmail(em, email);
        if (!user || user.disabled_at) continue;
        const { sealedToken, expiresAt } = await issueEmailToken(em, sealer, user.id, "reset_password", RESET_TTL_SECONDS);
        await publish(em, PasswordResetRequestedSchema, create(PasswordResetRequestedSchema, { userId: user.id, email, sealedToken, expireTime: timestampFromDate(expiresAt) }));
      }
      return taken.length;
    });

  const periodic = startPeriodic({
    what: "password reset queue",
    logger: options.logger,
    intervalMs: options.pollMs,
    firstRunMs: 0,
    async run(stopped) {
      let handled = 0;
      for (let n = await batch(); ; n = await batch()) {
        handled += n;
        if (n < BATCH || stopped()) return handled;
      }
    },
  });

  return {
    async queue(em, email) {
      await tables(em).insertInto("password_reset_requests").values({ id: uuidv7(), email, requested_at: sql<Date>`now()` }).execute();
    },
    wake() {
      // A run under way may have taken the queue before this request committed: one more run after it.
      const twice = () => periodic.runNow().then(() => periodic.runNow());
      setImmediate(() => void twice().catch((error: unknown) => options.logger.warn({ err: error }, "password reset queue failed; the next sweep retries")));
    },
    handleQueued: () => periodic.runNow(),
    stop: () => periodic.stop(),
  };
}
