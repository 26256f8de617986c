// The crash tests' returns process: a child running test/fixtures/returns-process.ts against the
// test's mesh, told its Consul name and service token, with a JWKS server for the mesh's signer.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { dropServiceDatabase, serviceDatabaseUrl, uniqueName } from "@bazaar/platform/testing";
import type { ReturnsMesh } from "./helpers.ts";

const fixture = fileURLToPath(new URL("./fixtures/returns-process.ts", import.meta.url));

async function jwksServer(r: ReturnsMesh, t: { teardown(fn: () => void): void }): Promise<string> {
  const body = JSON.stringify({ keys: [r.mesh.signer.publicJwk] });
  const server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(body));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
}

export interface ReturnsChild {
  child: ChildProcess;
  address: string;
  /** The signal it died of. */
  exited: Promise<NodeJS.Signals | null>;
}

export interface ChildSetup {
  /** Its Consul name (and database). */
  name: string;
  /** Starts a returns process; `env` over the setup's (e.g. RETURNS_TEST_CRASH_AFTER_REFUND=1). */
  start(env?: NodeJS.ProcessEnv): Promise<ReturnsChild>;
  /** Reads its database. */
  sql<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

/** One returns database and Consul name for successive child processes (a crash, then a restart). */
export async function returnsChildren(r: ReturnsMesh, t: { teardown(fn: () => Promise<void> | void): void }): Promise<ChildSetup> {
  const name = uniqueName("returns");
  const env: NodeJS.ProcessEnv = {
    ...r.env,
    AUTH_JWKS_URL: await jwksServer(r, t),
    PORT: "0",
    RETURNS_TEST_NAME: name,
    RETURNS_TEST_TOKEN: await r.mesh.signer.token({ subject: "returns", service: true, expiresIn: "1h" }),
  };
  const pool = new pg.Pool({ connectionString: serviceDatabaseUrl(name), max: 1 });
  pool.on("error", () => undefined);
  t.teardown(async () => {
    await pool.end();
    await dropServiceDatabase(name);
  });
  return {
    name,
    sql: async (text, params = []) => (await pool.query(text, params)).rows,
    start(extra = {}) {
      const child = spawn(process.execPath, ["--import", "tsx", fixture], { env: { ...env, ...extra }, stdio: ["ignore", "pipe", "inherit"] });
      t.teardown(() => void child.kill("SIGKILL"));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
      return new Promise((resolve, reject) => {
        createInterface({ input: child.stdout! }).on("line", (line) => {
          const address = /^serving (\S+)$/.exec(line)?.[1];
          if (address) resolve({ child, address, exited });
        });
        child.once("exit", (code) => reject(new Error(`the returns process exited (${code}) before serving`)));
      });
    },
  };
}
