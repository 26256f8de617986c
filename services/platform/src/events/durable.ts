// Durable setup: the JetStream consumer a `consume` reads, created or brought in line with its options.
import { AckPolicy, DeliverPolicy, nanos, type JetStreamManager } from "nats";

export interface DurableOptions {
  stream: string;
  durable: string;
  filterSubjects: string[];
  /** Version of the NATS server (its INFO), to know whether it takes several filter subjects. */
  serverVersion: string | undefined;
  ackWaitMs: number;
  concurrency: number;
  startAt?: "all" | "new";
}

/** The consumer's filter: several filter subjects need NATS 2.10; before that the whole stream (one per domain) is read. */
export function durableFilter(filterSubjects: string[], serverVersion: string | undefined): { filter_subject?: string; filter_subjects?: string[] } {
  if (filterSubjects.length === 1) return { filter_subject: filterSubjects[0] };
  return supportsMultipleFilters(serverVersion) ? { filter_subjects: filterSubjects } : {};
}

/**
 * Creates the durable or updates it to these options. JetStream's own max_deliver stays unlimited on
 * purpose: the consumer enforces the limit, so a message leaves only once its dead-letter copy is acked.
 */
export async function ensureDurable(jsm: JetStreamManager, options: DurableOptions): Promise<void> {
  const { stream, durable } = options;
  const config = {
    ack_wait: nanos(options.ackWaitMs),
    max_deliver: -1,
    max_ack_pending: Math.max(1000, options.concurrency * 10),
    ...durableFilter(options.filterSubjects, options.serverVersion),
  };
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

function supportsMultipleFilters(version: string | undefined): boolean {
  const [major = 0, minor = 0] = (version ?? "").split(".").map(Number);
  return major > 2 || (major === 2 && minor >= 10);
}
