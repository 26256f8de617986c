// Dead letters: a message given up on is copied to `bazaar.dlq.<durable>` with where it came from and
// why, then terminated.
import { headers as natsHeaders, type JetStreamClient, type JsMsg } from "nats";
import { dlqSubject } from "./subjects.ts";

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

/** Publishes the dead-letter copy of `message` (its own headers plus dlqHeaders), then terminates it. */
export async function deadLetter(js: JetStreamClient, durable: string, message: JsMsg, reason: unknown): Promise<void> {
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

/**
 * What to do after a failed delivery: retry after a delay doubling from `initialMs` up to `maxMs`, or
 * dead-letter once `maxDeliver` deliveries are used up or the failure is permanent.
 */
export function afterFailure(
  deliveries: number,
  error: unknown,
  policy: { maxDeliver: number; initialMs: number; maxMs: number },
): { retryInMs: number } | "dead-letter" {
  if (deliveries >= policy.maxDeliver || (error as { permanent?: boolean } | undefined)?.permanent) return "dead-letter";
  return { retryInMs: Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(deliveries - 1, 30)) };
}

function oneLine(reason: unknown): string {
  const text = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  return text.replace(/[\r\n]+/g, " ").slice(0, 500);
}
