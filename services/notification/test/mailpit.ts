// A private Mailpit (a real SMTP server with an HTTP API) per test file, on free ports, its mail kept
// in a file so that a stop and start (an SMTP outage) keeps what it had received. Built by
// scripts/build-mailpit.sh (MAILPIT_BIN, or the cached build); a missing binary fails loudly.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { eventually } from "@bazaar/platform/testing";

export function mailpitBinary(): string {
  const cache = process.env.BAZAAR_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), ".cache"), "bazaar");
  const binary = process.env.MAILPIT_BIN ?? path.join(cache, `mailpit-${process.env.MAILPIT_VERSION ?? "v1.33.1"}`, "mailpit");
  if (!existsSync(binary)) throw new Error(`mailpit not found at ${binary}: build it with scripts/build-mailpit.sh (needs Go), or set MAILPIT_BIN`);
  return binary;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Address {
  Name: string;
  Address: string;
}

export interface MailSummary {
  ID: string;
  MessageID: string;
  From: Address;
  To: Address[];
  Subject: string;
}

export interface Mail extends MailSummary {
  ReplyTo: Address[];
  Text: string;
  HTML: string;
}

export interface Mailpit {
  /** smtp://127.0.0.1:<port>, for SMTP_URL. */
  smtpUrl: string;
  httpUrl: string;
  /** Messages to `address` (newest first). */
  to(address: string): Promise<MailSummary[]>;
  message(id: string): Promise<Mail>;
  headers(id: string): Promise<Record<string, string[]>>;
  /** Waits until `address` has received `count` messages and returns them in full. */
  waitFor(address: string, count?: number): Promise<Mail[]>;
  /** Stops the server (SMTP down); start() brings it back on the same ports with the same mail. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMailpit(): Promise<Mailpit> {
  const binary = mailpitBinary();
  const dir = mkdtempSync(path.join(tmpdir(), "mailpit-"));
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const response = await fetch(`${httpUrl}${pathAndQuery}`);
    if (!response.ok) throw new Error(`mailpit ${pathAndQuery}: HTTP ${response.status}`);
    return (await response.json()) as T;
  };

  async function startServer(): Promise<void> {
    child = spawn(
      binary,
      ["--smtp", `127.0.0.1:${smtpPort}`, "--listen", `127.0.0.1:${httpPort}`, "--database", path.join(dir, "mail.db"), "--disable-version-check", "--quiet"],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    child.stderr!.resume();
    exited = new Promise((resolve) => child!.once("exit", () => resolve()));
    await eventually("mailpit to answer", async () => (await fetch(`${httpUrl}/readyz`).catch(() => undefined))?.ok, 30_000);
  }

  await startServer();
  const mailpit: Mailpit = {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    httpUrl,
    async to(address) {
      const found = await api<{ messages: MailSummary[] }>(`/api/v1/search?limit=500&query=${encodeURIComponent(`to:"${address}"`)}`);
      return found.messages.filter((m) => m.To.some((to) => to.Address.toLowerCase() === address.toLowerCase()));
    },
    message: (id) => api<Mail>(`/api/v1/message/${id}`),
    headers: (id) => api<Record<string, string[]>>(`/api/v1/message/${id}/headers`),
    async waitFor(address, count = 1) {
      const summaries = await eventually(
        `${count} message(s) to ${address} in Mailpit`,
        async () => {
          const found = await mailpit.to(address);
          return found.length >= count ? found : undefined;
        },
        30_000,
        100,
      );
      return Promise.all(summaries.map((summary) => mailpit.message(summary.ID)));
    },
    async stopServer() {
      child?.kill("SIGTERM");
      await exited;
    },
    startServer,
    async stop() {
      await mailpit.stopServer();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return mailpit;
}
