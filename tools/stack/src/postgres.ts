import { existsSync, mkdirSync, chownSync, readFileSync, globSync } from "node:fs";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { PrerequisiteError } from "./errors.ts";
import { isListening } from "./ports.ts";
import type { Supervisor } from "./processes.ts";
import type { Provisioned } from "./provisioned.ts";
import { hostPort, type StackSettings } from "./settings.ts";
import { waitFor } from "./wait.ts";

const run = promisify(execFile);
const installHint = "install PostgreSQL >= 14 (e.g. apt-get install postgresql) or set DATABASE_URL to a running server";

/** Whether a PostgreSQL server accepts `url`'s credentials and answers a query. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Uses the PostgreSQL at `settings.databaseUrl`, or starts a private one there from the machine's binaries. */
export async function ensurePostgres(settings: StackSettings, supervisor: Supervisor): Promise<Provisioned> {
  const url = settings.databaseUrl;
  if (await postgresAnswers(url)) return { name: "postgres", address: url };
  const { host, port } = hostPort(url, 5432);
  if (await isListening(host, port)) {
    throw new PrerequisiteError(`something listens at ${host}:${port} but does not accept ${redact(url)}: fix DATABASE_URL`);
  }
  const bin = postgresBinaries();
  const user = decodeURIComponent(new URL(url).username || "postgres");
  const dataDir = path.join(settings.stateDir, "postgres");
  // Only the data directory is private: the user PostgreSQL runs as must traverse its parents.
  mkdirSync(settings.stateDir, { recursive: true });
  if (!existsSync(dataDir)) mkdirSync(dataDir, { mode: 0o700 });
  // initdb and postgres refuse to run as root: when we are root, they run as an unprivileged user.
  const owner = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  if (owner) chownSync(dataDir, owner.uid, owner.gid);
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    await run(bin.initdb, ["-D", dataDir, "-U", user, "--auth=trust", "-E", "UTF8", "--no-instructions"], {
      ...(owner ?? {}),
    }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`initdb failed: ${error.stderr ?? error.message}`);
    });
  }
  const processHandle = supervisor.start({
    name: "postgres",
    command: bin.postgres,
    args: ["-D", dataDir, "-h", host, "-p", String(port), "-k", dataDir, "-c", "max_connections=300"],
    ...(owner ?? {}),
    stopTimeoutMs: 20_000,
  });
  await waitFor(() => postgresAnswers(url), {
    what: `the private PostgreSQL at ${host}:${port}`,
    abortReason: processHandle.exitReason,
  });
  return { name: "postgres", address: url, process: processHandle };
}

function postgresBinaries(): { initdb: string; postgres: string } {
  // Debian keeps server binaries per major version; prefer the newest that has both.
  const dirs = globSync("/usr/lib/postgresql/*/bin").sort((a, b) => versionOf(b) - versionOf(a));
  for (const dir of [...dirs, ...(process.env.PATH ?? "").split(path.delimiter)]) {
    const initdb = path.join(dir, "initdb");
    const postgres = path.join(dir, "postgres");
    if (existsSync(initdb) && existsSync(postgres)) return { initdb, postgres };
  }
  throw new PrerequisiteError(`PostgreSQL is not reachable and its server binaries (initdb, postgres) are missing: ${installHint}`);
}

function versionOf(dir: string): number {
  return Number(dir.split("/").at(-2)) || 0;
}

function unprivilegedUser(): { uid: number; gid: number } {
  const users = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((line) => line.split(":"))
    .filter((fields) => fields.length > 3);
  for (const name of ["postgres", "nobody"]) {
    const entry = users.find((fields) => fields[0] === name);
    if (entry) return { uid: Number(entry[2]), gid: Number(entry[3]) };
  }
  throw new PrerequisiteError("running as root and no unprivileged user (postgres or nobody) exists to run PostgreSQL: create one");
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}
