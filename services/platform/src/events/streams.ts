import { DiscardPolicy, nanos, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from "nats";
import { checkDomain, dlqStream, streamName } from "./subjects.ts";

export interface EnsureStreamsOptions {
  /** How long JetStream remembers Nats-Msg-Id values to drop republished events. Default and minimum 2 min. */
  duplicateWindowMs?: number;
  /**
   * How long a domain stream keeps an event (JetStream's max_age; 0 = forever). Default 7 days: a
   * consumer down for longer, or a new service, catches up on that much history.
   */
  maxAgeMs?: number;
  /** How long the dead-letter stream keeps a message for people to look at. Default 30 days. */
  deadLetterMaxAgeMs?: number;
  /** Copies JetStream keeps of each stream (num_replicas; 3 on a 3-node cluster). Default 1. */
  replicas?: number;
}

export interface StreamOutcome {
  stream: string;
  action: "created" | "updated" | "unchanged";
}

const minimumDuplicateWindowMs = 120_000;
const day = 24 * 3600_000;

/**
 * Creates or updates, idempotently, one file-backed stream per domain (`BAZAAR_<DOMAIN>` on
 * `bazaar.<domain>.>`) and the dead-letter stream (`BAZAAR_DLQ` on `bazaar.dlq.>`). Safe to call at
 * every start, by several instances at once; says what it did to each stream.
 */
export async function ensureStreams(jsm: JetStreamManager, domains: readonly string[], options: EnsureStreamsOptions = {}): Promise<StreamOutcome[]> {
  const duplicateWindowMs = Math.max(options.duplicateWindowMs ?? minimumDuplicateWindowMs, minimumDuplicateWindowMs);
  const maxAgeMs = checkMaxAge("maxAgeMs", options.maxAgeMs ?? 7 * day, duplicateWindowMs);
  const deadLetterMaxAgeMs = checkMaxAge("deadLetterMaxAgeMs", options.deadLetterMaxAgeMs ?? 30 * day, duplicateWindowMs);
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new TypeError(`ensureStreams: replicas must be 1 to 5 (JetStream's limit), got ${replicas}`);
  for (const domain of domains) checkDomain(domain);
  const wanted: Wanted[] = [...new Set(domains)].map((domain) => ({ name: streamName(domain), subjects: [`bazaar.${domain}.>`], duplicateWindowMs, maxAgeMs, replicas }));
  wanted.push({ name: dlqStream, subjects: ["bazaar.dlq.>"], duplicateWindowMs, maxAgeMs: deadLetterMaxAgeMs, replicas });
  const outcomes: StreamOutcome[] = [];
  for (const stream of wanted) outcomes.push(await ensureStream(jsm, stream));
  return outcomes;
}

interface Wanted {
  name: string;
  subjects: string[];
  duplicateWindowMs: number;
  maxAgeMs: number;
  replicas: number;
}

function checkMaxAge(option: string, value: number, duplicateWindowMs: number): number {
  // JetStream refuses a duplicate window longer than the stream's max age.
  if (!Number.isInteger(value) || value < 0 || (value > 0 && value < duplicateWindowMs)) {
    throw new TypeError(`ensureStreams: ${option} must be 0 (forever) or at least the duplicate window (${duplicateWindowMs} ms), got ${value}`);
  }
  return value;
}

async function ensureStream(jsm: JetStreamManager, { name, subjects, duplicateWindowMs, maxAgeMs, replicas }: Wanted): Promise<StreamOutcome> {
  // Two instances may race to create the same stream: the loser re-reads and compares.
  for (let attempt = 1; ; attempt++) {
    const existing = await streamInfo(jsm, name);
    try {
      if (!existing) {
        await jsm.streams.add({
          name,
          subjects,
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          discard: DiscardPolicy.Old,
          duplicate_window: nanos(duplicateWindowMs),
          max_age: nanos(maxAgeMs),
          num_replicas: replicas,
        });
        return { stream: name, action: "created" };
      }
      const config = existing.config;
      if (config.storage !== StorageType.File) {
        throw new Error(`stream ${name} exists with ${config.storage} storage; JetStream cannot change storage in place: delete it or move its messages to a file stream`);
      }
      const sameSubjects = config.subjects.length === subjects.length && subjects.every((s) => config.subjects.includes(s));
      const windowLongEnough = config.duplicate_window >= nanos(duplicateWindowMs);
      const sameMaxAge = config.max_age === nanos(maxAgeMs);
      // A cluster raises (or lowers) a stream's replicas in place.
      const sameReplicas = config.num_replicas === replicas;
      if (sameSubjects && windowLongEnough && sameMaxAge && sameReplicas) return { stream: name, action: "unchanged" };
      const update: StreamConfig = { ...config, subjects, max_age: nanos(maxAgeMs), num_replicas: replicas };
      if (!windowLongEnough) update.duplicate_window = nanos(duplicateWindowMs);
      await jsm.streams.update(name, update);
      return { stream: name, action: "updated" };
    } catch (error) {
      if (attempt >= 3 || !/already in use|already exists/i.test(String((error as Error).message))) throw error;
    }
  }
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (/stream not found/i.test(String((error as Error).message))) return undefined;
    throw error;
  }
}
