// Feeds Revocations from identity's stream: an ordered (ephemeral) consumer of UserDisabled and
// UserDeleted that starts `lookbackMs` back, so a service started or restarted after the event still
// knows. No durable state: every instance reads for itself, and NATS being away only delays news
// (the consumer resumes where it was when NATS returns).
import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { UserDeletedSchema, UserDisabledSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { DeliverPolicy, type ConsumerMessages, type NatsConnection } from "nats";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureStreams, type EnsureStreamsOptions } from "../events/streams.ts";
import { streamName, subjectFor } from "../events/subjects.ts";
import type { Logger } from "../logger.ts";
import type { Revocations } from "./revocations.ts";

export interface RevocationFeedOptions {
  /** The connection, or its promise while it is being made (a service need not wait for NATS to start). */
  nats: NatsConnection | Promise<NatsConnection>;
  revocations: Revocations;
  /** How far back the feed starts: at least the access-token lifetime. Default 20 minutes. */
  lookbackMs?: number;
  /** Retention the identity stream is ensured with when it does not exist yet. */
  retention: EnsureStreamsOptions;
  logger?: Logger;
  /** Pause before retrying after the stream cannot be read (NATS away). Default 1 000 ms. */
  retryMs?: number;
}

export interface RevocationFeed {
  /** Whether the feed has read the history it started with (the revocations are complete up to now). */
  caughtUp(): boolean;
  stop(): Promise<void>;
}

const events = [
  { schema: UserDisabledSchema, why: "disabled" as const },
  { schema: UserDeletedSchema, why: "deleted" as const },
];

export function startRevocationFeed(options: RevocationFeedOptions): RevocationFeed {
  const lookbackMs = options.lookbackMs ?? 20 * 60_000;
  const retryMs = options.retryMs ?? 1_000;
  const stream = streamName("identity");
  const bySubject = new Map(events.map((e) => [subjectFor(e.schema.typeName), e]));
  let stopped = false;
  let caughtUp = false;
  let messages: ConsumerMessages | undefined;
  let connected = false;

  const run = async () => {
    let startAt = new Date(Date.now() - lookbackMs);
    const nats = await options.nats;
    connected = true;
    while (!stopped) {
      try {
        const jsm = await nats.jetstreamManager();
        await ensureStreams(jsm, ["identity"], options.retention);
        // Caught up once the stream's last message at this moment has been seen (or when it is older
        // than where we start).
        const { state } = await jsm.streams.info(stream);
        const lastSeq = state.messages > 0 && new Date(state.last_ts) >= startAt ? state.last_seq : 0;
        if (lastSeq === 0) caughtUp = true;
        // The whole domain, not the two subjects: several filter subjects need NATS 2.10, and identity's
        // other events are few.
        const consumer = await nats.jetstream().consumers.get(stream, {
          filterSubjects: "bazaar.identity.>",
          deliver_policy: DeliverPolicy.StartTime,
          opt_start_time: startAt.toISOString(),
        });
        messages = await consumer.consume();
        if (stopped) {
          await messages.close();
          break;
        }
        for await (const message of messages) {
          const event = bySubject.get(message.subject);
          if (event) {
            try {
              const decoded = fromBinary(event.schema, message.data);
              const at = decoded.occurredAt ? timestampDate(decoded.occurredAt) : new Date(message.info.timestampNanos / 1e6);
              options.revocations.revoke(decoded.userId, at, event.why);
              startAt = new Date(message.info.timestampNanos / 1e6);
            } catch (error) {
              options.logger?.warn({ err: error, subject: message.subject }, "revocation feed: undecodable event skipped");
            }
          }
          if (message.info.pending === 0 || message.seq >= lastSeq) caughtUp = true;
        }
      } catch (error) {
        if (stopped) break;
        options.logger?.warn({ err: error }, "revocation feed: cannot read identity's events; retrying");
        await sleep(retryMs);
      }
    }
  };
  const running = run().catch((error: unknown) => options.logger?.warn({ err: error }, "revocation feed: no NATS connection"));

  return {
    caughtUp: () => caughtUp,
    async stop() {
      stopped = true;
      await messages?.close();
      // Still waiting for a first connection (or for NATS, which may be away): no shutdown waits on it.
      if (connected) await Promise.race([running, sleep(2_000)]);
    },
  };
}
