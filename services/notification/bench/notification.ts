// `npm run bench:notification`: 1,000 OrderPlaced events on the real stream → order confirmations
// accepted by a real SMTP server (a private Mailpit). Measures messages per second (first event
// published → last message accepted) and the event→accepted latency per message (the event's
// occurred_at to the message's sent_at), p50/p99. Prints the figures and records them in BENCHMARKS.md.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { connect, headers as natsHeaders } from "nats";
import pg from "pg";
import { createService, eventTypeHeader, loadConfig, natsServers, subjectFor, createTokenVerifier } from "@bazaar/platform";
import { createSupervisor, ensureInfrastructure, freePort, mailpitBinary, repositoryRoot, stackSettings } from "@bazaar/stack";
import { OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { recordSection } from "../../platform/bench/report.ts";
import { notification, notificationConfigSchema } from "../src/index.ts";
import { createSmtpProvider } from "../src/smtp-provider.ts";
import os from "node:os";

const count = Number(process.env.BENCH_EVENTS ?? 1000);
const loadAtStart = os.loadavg().map((n) => n.toFixed(1)).join(" / ");
const settings = stackSettings();
const supervisor = createSupervisor({ write: () => {} });
const infra = await ensureInfrastructure(settings, supervisor);

// A private Mailpit: the SMTP server that accepts the mail.
const mailDir = mkdtempSync(path.join(tmpdir(), "mailpit-bench-"));
const [smtpPort, httpPort] = [await freePort(), await freePort()];
const mailpit = spawn(await mailpitBinary(settings), ["--smtp", `127.0.0.1:${smtpPort}`, "--listen", `127.0.0.1:${httpPort}`, "--database", path.join(mailDir, "mail.db"), "--disable-version-check", "--quiet"], { stdio: "ignore" });
for (let i = 0; i < 300 && !(await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined))?.ok; i++) await new Promise((r) => setTimeout(r, 100));

const name = `notification-bench-${randomBytes(3).toString("hex")}`;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...infra.env,
  BAZAAR_ENV: "development",
  LOG_LEVEL: "warn",
  EVENTS_NEW_CONSUMER_START: "new",
  SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
  DB_POOL_SIZE: "6",
};
const config = loadConfig(notificationConfigSchema, env);
const service = await createService(notification({ config, name }), { config, verifier: createTokenVerifier({ jwks: { keys: [] }, issuer: "bazaar-identity", audience: "bazaar" }) });
const db = new pg.Pool({ connectionString: env.DATABASE_URL!.replace(/\/[^/]*$/, `/bazaar_${name.replaceAll("-", "_")}`), max: 1 });

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
try {
  const nats = await connect(natsServers(env.NATS_URL!));
  const js = nats.jetstream();
  const eur = (amountMinor: bigint) => ({ amountMinor, currencyCode: "EUR" });
  const runId = randomBytes(4).toString("hex");
  const started = Date.now();
  const pending: Promise<unknown>[] = [];
  const publishedAt = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const now = new Date();
    const email = `bench-${runId}-${i}@example.com`;
    publishedAt.set(email, now.getTime());
    const event = create(OrderPlacedSchema, {
      eventId: randomUUID(),
      occurredAt: timestampFromDate(now),
      orderId: randomUUID(),
      email,
      lines: [{ sku: "MUG-1", productId: randomUUID(), quantity: 2, unitPrice: eur(1200n), productName: "Mug" }],
      subtotal: eur(2400n),
      discount: eur(0n),
      shipping: eur(490n),
      tax: eur(0n),
      total: eur(2890n),
      shippingAddress: { recipientName: "Bench", line1: "1 Main St", city: "Springfield", postalCode: "62701", countryCode: "US" },
    });
    const h = natsHeaders();
    h.set(eventTypeHeader, OrderPlacedSchema.typeName);
    pending.push(js.publish(subjectFor(OrderPlacedSchema.typeName), toBinary(OrderPlacedSchema, event), { msgID: event.eventId, headers: h }));
    if (pending.length >= 100) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const published = Date.now();
  // Done when every message was accepted by the SMTP server.
  for (;;) {
    const { rows } = await db.query<{ n: string }>("select count(*) as n from message where status = 'sent'").catch(() => ({ rows: [{ n: "0" }] }));
    if (Number(rows[0]!.n) >= count) break;
    if (Date.now() - started > 600_000) throw new Error(`only ${rows[0]!.n} of ${count} sent after 10 minutes`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await nats.close();
  // Event → accepted: each event's publish time (its occurred_at) to its message's sent_at (same clock).
  const timing = await db.query<{ recipient: string; sent_ms: string }>("select recipient, extract(epoch from sent_at) * 1000 as sent_ms from message where status = 'sent'");
  const latencies = timing.rows.map((row) => Number(row.sent_ms) - publishedAt.get(row.recipient)!).sort((a, b) => a - b);
  const lastSent = Math.max(...timing.rows.map((row) => Number(row.sent_ms)));
  const elapsedS = (lastSent - started) / 1000;
  const rate = count / elapsedS;
  // The ceiling: the same Mailpit taking 300 ready-made messages over the same number of connections.
  const smtp = createSmtpProvider({ url: env.SMTP_URL!, from: config.MAIL_FROM, replyTo: config.MAIL_REPLY_TO, maxConnections: config.NOTIFICATION_SEND_CONCURRENCY });
  const html = "<p>" + "x".repeat(12_000) + "</p>";
  const bareStart = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: config.NOTIFICATION_SEND_CONCURRENCY }, async () => {
      while (next < 300) {
        const n = next++;
        await smtp.send({ id: randomUUID(), channel: "email", recipient: `bare-${runId}-${n}@example.com`, subject: "bare", html, text: "bare", short: "bare" });
      }
    }),
  );
  const bareRate = 300 / ((Date.now() - bareStart) / 1000);
  await smtp.close();
  const body = [
    `${count} OrderPlaced events published to JetStream in ${((published - started) / 1000).toFixed(1)} s; the notification service (one process, default settings:`,
    `${config.NOTIFICATION_SEND_CONCURRENCY} SMTP connections; MJML compiled at start, Handlebars per message) consumed them and had a private Mailpit accept ${count} order confirmations.`,
    `Load average when it started: ${loadAtStart} (2 cores shared with PostgreSQL, NATS, Mailpit and other work). The events arrive as one`,
    "burst, so the latencies are mostly waiting behind the messages queued before (the last one waits for the whole burst).",
    "",
    "| figure | value |",
    "|---|---|",
    `| messages accepted by SMTP per second (first publish → last accepted) | ${rate.toFixed(1)} |`,
    `| event published → accepted by SMTP, p50 | ${quantile(latencies, 0.5).toFixed(0)} ms |`,
    `| event published → accepted by SMTP, p99 | ${quantile(latencies, 0.99).toFixed(0)} ms |`,
    `| all ${count} accepted after | ${elapsedS.toFixed(1)} s |`,
    `| for comparison: the same Mailpit taking ready-made messages over ${config.NOTIFICATION_SEND_CONCURRENCY} connections, per second | ${bareRate.toFixed(1)} |`,
  ].join("\n");
  console.log(body);
  console.log(`recorded in ${recordSection(repositoryRoot, "Notification (bench:notification)", body)}`);
} finally {
  await db.end();
  await service.stop();
  mailpit.kill("SIGTERM");
  rmSync(mailDir, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: env.DATABASE_URL });
  await admin.connect();
  await admin.query(`drop database if exists "bazaar_${name.replaceAll("-", "_")}" with (force)`);
  await admin.end();
  await supervisor.stopAll();
}
