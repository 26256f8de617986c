// Email over SMTP with nodemailer, to any server configured by URL (TLS and auth as the URL says):
// From/Reply-To from config, a stable Message-ID per message (so a retry after an unclear failure is
// recognisable as the same message), HTML and text parts, and List-Unsubscribe with
// List-Unsubscribe-Post (RFC 8058) on anything not strictly transactional.
import nodemailer from "nodemailer";
import type { ChannelProvider, OutgoingMessage } from "./providers.ts";

export interface SmtpProviderOptions {
  url: string;
  from: string;
  replyTo: string;
  /** Connections kept open to the server. */
  maxConnections: number;
}

/** The domain of a mailbox like "Shop <no-reply@shop.example>", for Message-IDs. */
export function mailDomain(mailbox: string): string {
  return /@([^>\s]+)>?\s*$/.exec(mailbox)?.[1] ?? "localhost";
}

export function createSmtpProvider(options: SmtpProviderOptions): ChannelProvider {
  const transport = nodemailer.createTransport({
    url: options.url,
    pool: true,
    maxConnections: options.maxConnections,
    // A server that is down fails fast; the message is retried with backoff.
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    socketTimeout: 30_000,
  });
  const domain = mailDomain(options.from);
  return {
    channel: "email",
    async send(message: OutgoingMessage) {
      const messageId = `<${message.id}@${domain}>`;
      const headers: Record<string, string> = { "Auto-Submitted": "auto-generated" };
      if (message.oneClickUnsubscribeUrl) {
        headers["List-Unsubscribe"] = `<${message.oneClickUnsubscribeUrl}>`;
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
      }
      await transport.sendMail({
        from: options.from,
        replyTo: options.replyTo,
        to: message.recipient,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId,
        headers,
      });
      return { providerMessageId: messageId };
    },
    close: () => transport.close(),
  };
}
