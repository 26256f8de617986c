// Mailpit (a real SMTP server with a web inbox and an HTTP API) for the notification service: the local
// stack starts one when SMTP_URL is not given, so a developer sees every email the shop sends; tests
// start private ones (MAILPIT_BIN). Built once from the Go module proxy by scripts/build-mailpit.sh.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { scriptBuiltBinary } from "./binaries.ts";
import { isListening } from "./ports.ts";
import type { Supervisor } from "./processes.ts";
import type { Provisioned } from "./provisioned.ts";
import type { StackSettings } from "./settings.ts";
import { waitFor } from "./wait.ts";


export function mailpitBinary(settings: StackSettings): Promise<string> {
  return scriptBuiltBinary(settings.root, settings.cacheDir, {
    name: "Mailpit",
    script: "build-mailpit.sh",
    envVar: "MAILPIT_BIN",
    instead: "install Go, set MAILPIT_BIN, or give SMTP_URL",
  });
}

export interface MailServer extends Provisioned {
  /** For the services: SMTP_URL. */
  env: Record<string, string>;
  /** The web inbox, when it is the stack's Mailpit. */
  inboxUrl?: string;
}

/** SMTP_URL when given; else the Mailpit at 127.0.0.1:1025 (inbox :8025), started here unless it runs already. */
export async function ensureMailServer(settings: StackSettings, supervisor: Supervisor): Promise<MailServer> {
  if (process.env.SMTP_URL) return { name: "smtp", address: process.env.SMTP_URL.replace(/\/\/[^@/]*@/, "//…@"), env: {} };
  const smtp = { host: "127.0.0.1", port: Number(process.env.MAILPIT_SMTP_PORT ?? 1025) };
  const http = { host: "127.0.0.1", port: Number(process.env.MAILPIT_HTTP_PORT ?? 8025) };
  const env = { SMTP_URL: `smtp://${smtp.host}:${smtp.port}` };
  const inboxUrl = `http://${http.host}:${http.port}/`;
  if (await isListening(smtp.host, smtp.port)) return { name: "mailpit", address: env.SMTP_URL, env, inboxUrl };
  const binary = await mailpitBinary(settings);
  const dir = path.join(settings.stateDir, "mailpit");
  mkdirSync(dir, { recursive: true });
  const processHandle = supervisor.start({
    name: "mailpit",
    command: binary,
    args: ["--smtp", `${smtp.host}:${smtp.port}`, "--listen", `${http.host}:${http.port}`, "--database", path.join(dir, "mail.db"), "--disable-version-check"],
  });
  await waitFor(async () => (await fetch(`${inboxUrl}readyz`).catch(() => undefined))?.ok === true, { what: `Mailpit at ${smtp.host}:${smtp.port}`, abortReason: processHandle.exitReason });
  return { name: "mailpit", address: env.SMTP_URL, env, inboxUrl, process: processHandle };
}
