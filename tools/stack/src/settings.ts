import { fileURLToPath } from "node:url";
import path from "node:path";

/** Where the stack looks for (or starts) its infrastructure, and where it keeps private state. */
export interface StackSettings {
  /** Repository root: services are found under it. */
  root: string;
  /** Git-ignored directory for private instances' data and logs. */
  stateDir: string;
  /** Cache for binaries built from the Go module proxy (outside git, shared between clones). */
  cacheDir: string;
  /** PostgreSQL server URL (any database; services create their own). */
  databaseUrl: string;
  natsUrl: string;
  /** Consul HTTP API address, host:port (same form as Consul's own CONSUL_HTTP_ADDR). */
  consulAddr: string;
  /** Processes per service under `npm start` (BAZAAR_INSTANCES or `--instances N`, default 1). */
  instances: number;
}

export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Reads the settings from the environment; every default fits the local stack. */
export function stackSettings(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): StackSettings {
  const root = env.BAZAAR_ROOT ?? repositoryRoot;
  const home = env.HOME ?? "/tmp";
  return {
    root,
    stateDir: env.BAZAAR_STATE_DIR ?? path.join(root, ".stack"),
    cacheDir: env.BAZAAR_CACHE ?? path.join(env.XDG_CACHE_HOME ?? path.join(home, ".cache"), "bazaar"),
    databaseUrl: env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    natsUrl: env.NATS_URL ?? "nats://127.0.0.1:4222",
    consulAddr: (env.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500").replace(/^https?:\/\//, ""),
    instances: instancesSetting(argv, env.BAZAAR_INSTANCES),
  };
}

/** `--instances N` / `--instances=N`, else BAZAAR_INSTANCES, else 1; anything but 1..16 is refused by name. */
function instancesSetting(argv: readonly string[], fromEnv: string | undefined): number {
  const at = argv.findIndex((arg) => arg === "--instances" || arg.startsWith("--instances="));
  const [source, raw] =
    at >= 0 ? ["--instances", argv[at]!.includes("=") ? argv[at]!.split("=", 2)[1] : argv[at + 1]] : ["BAZAAR_INSTANCES", fromEnv];
  if (raw === undefined || raw === "") return 1;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 16) throw new RangeError(`${source} must be a whole number from 1 to 16 (got ${JSON.stringify(raw)})`);
  return value;
}

/**
 * The environment a service or test needs to reach the infrastructure the stack settled on. The local
 * stack is explicitly local development (services refuse default secrets otherwise), unless the
 * caller's environment already says which mode it is.
 */
export function infrastructureEnv(s: Pick<StackSettings, "databaseUrl" | "natsUrl" | "consulAddr">): Record<string, string> {
  return {
    DATABASE_URL: s.databaseUrl,
    NATS_URL: s.natsUrl,
    CONSUL_HTTP_ADDR: s.consulAddr,
    BAZAAR_ENV: process.env.BAZAAR_ENV ?? "development",
  };
}

/** host and port of a URL or host:port string. */
export function hostPort(address: string, defaultPort: number): { host: string; port: number } {
  const url = new URL(address.includes("://") ? address : `tcp://${address}`);
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: url.port ? Number(url.port) : defaultPort };
}
