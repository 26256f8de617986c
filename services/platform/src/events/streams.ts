import { DiscardPolicy, nanos, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from "nats";
import { checkDomain, dlqStream, streamName } from "./subjects.ts";

export interface EnsureStreamsOptions {
  /** How long JetStream remembers Nats-Msg-Id values to drop republished events. Default and minimum 2 min. */
  duplicateWindowMs?: number;
}

export interface StreamOutcome {
  stream: string;
  action: "created" | "updated" | "unchanged";
}

const minimumDuplicateWindowMs = 120_000;

/**
 * Creates or updates, idempotently, one file-backed stream per domain (`BAZAAR_<DOMAIN>` on
 * `bazaar.<domain>.>`) and the dead-letter stream (`BAZAAR_DLQ` on `bazaar.dlq.>`). Safe to call at
 * every start, by several instances at once; says what it did to each stream.
 */
export async function ensureStreams(jsm: JetStreamManager, domains: readonly string[], options: EnsureStreamsOptions = {}): Promise<StreamOutcome[]> {
  const duplicateWindowMs = Math.max(options.duplicateWindowMs ?? minimumDuplicateWindowMs, minimumDuplicateWindowMs);
  for (const domain of domains) checkDomain(domain);
  const wanted = [...new Set(domains)].map((domain) => ({ name: streamName(domain), subjects: [`bazaar.${domain}.>`] }));
  wanted.push({ name: dlqStream, subjects: ["bazaar.dlq.>"] });
  const outcomes: StreamOutcome[] = [];
  for (const stream of wanted) outcomes.push(await ensureStream(jsm, stream.name, stream.subjects, duplicateWindowMs));
  return outcomes;
}

async function ensureStream(jsm: JetStreamManager, name: string, subjects: string[], duplicateWindowMs: number): Promise<StreamOutcome> {
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
          num_replicas: 1,
        });
        return { stream: name, action: "created" };
      }
      const config = existing.config;
      if (config.storage !== StorageType.File) {
        throw new Error(`stream ${name} exists with ${config.storage} storage; JetStream cannot change storage in place: delete it or move its messages to a file stream`);
      }
      const sameSubjects = config.subjects.length === subjects.length && subjects.every((s) => config.subjects.includes(s));
      const windowLongEnough = config.duplicate_window >= nanos(duplicateWindowMs);
      if (sameSubjects && windowLongEnough) return { stream: name, action: "unchanged" };
      const update: StreamConfig = { ...config, subjects };
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
