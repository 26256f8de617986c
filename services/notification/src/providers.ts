// The provider port: how a rendered message leaves the service on its channel. Email goes over SMTP
// (smtp-provider.ts); SMS and push go through whatever provider is plugged in here (see the README).
import type { Channel } from "./topics.ts";

export interface OutgoingMessage {
  /** The message's row id (stable across attempts). */
  id: string;
  channel: Channel;
  recipient: string;
  subject: string;
  html: string;
  text: string;
  /** The SMS or push text (the subject when the template has none). */
  short: string;
  /** Set for messages that are not strictly transactional: the one-click unsubscribe URL (RFC 8058). */
  oneClickUnsubscribeUrl?: string;
}

export interface ChannelProvider {
  readonly channel: Channel;
  /** Hands the message over; resolves with the provider's id for it, throws when it was not accepted. */
  send(message: OutgoingMessage): Promise<{ providerMessageId: string }>;
  close(): Promise<void> | void;
}
