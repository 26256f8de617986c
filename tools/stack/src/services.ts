import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { ManagedProcess, Supervisor } from "./processes.ts";
import { waitFor } from "./wait.ts";

/** A deployable of the repository: a folder under services/ (or edge/) with a src/main.ts. */
export interface ServiceDefinition {
  /** Name it registers under in Consul: package.json `bazaar.service`, else the folder name. */
  name: string;
  dir: string;
  entry: string;
}

/** Every service under `root`/services and the edge, in a stable order (the edge last: it calls the others). */
export function discoverServices(root: string): ServiceDefinition[] {
  const servicesDir = path.join(root, "services");
  const dirs = existsSync(servicesDir)
    ? readdirSync(servicesDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => path.join(servicesDir, entry.name))
        .sort()
    : [];
  dirs.push(path.join(root, "edge"));
  return dirs.flatMap((dir) => {
    const entry = path.join(dir, "src", "main.ts");
    if (!existsSync(entry)) return [];
    return [{ name: consulName(dir), dir, entry }];
  });
}

function consulName(dir: string): string {
  const manifest = path.join(dir, "package.json");
  if (existsSync(manifest)) {
    const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { bazaar?: { service?: string } };
    if (pkg.bazaar?.service) return pkg.bazaar.service;
  }
  return path.basename(dir);
}

export interface StartServicesOptions {
  supervisor: Supervisor;
  /** Consul HTTP address where each service must turn up healthy. */
  consulAddr: string;
  /** Environment for every service (infrastructure addresses on top of ours). */
  env: Record<string, string>;
  /** Per service (default 60 s). */
  healthyTimeoutMs?: number;
}

/** Starts each service on the current Node (with tsx) and waits until Consul reports it passing. */
export async function startServices(services: ServiceDefinition[], options: StartServicesOptions): Promise<ManagedProcess[]> {
  const started = services.map((service) =>
    options.supervisor.start({
      name: service.name,
      command: process.execPath,
      args: ["--import", "tsx", service.entry],
      cwd: service.dir,
      env: { ...process.env, ...options.env },
    }),
  );
  await Promise.all(
    services.map((service, i) =>
      waitFor(() => isPassing(options.consulAddr, service.name), {
        what: `${service.name} to be healthy in Consul`,
        timeoutMs: options.healthyTimeoutMs ?? 60_000,
        intervalMs: 250,
        abortReason: started[i]!.exitReason,
      }),
    ),
  );
  return started;
}

/**
 * Starts the token issuer (identity) first, then everything else. Every service finds the issuer's
 * JWKS through Consul (AUTH_JWKS_DISCOVERY, IDENTITY_SERVICE_NAME), never at a pinned address, so a
 * restarted identity on a new port, or several of them, keep verifying. An AUTH_JWKS_URL already set
 * (a fixed address) is passed on as it is.
 */
export async function startMesh(
  services: ServiceDefinition[],
  options: StartServicesOptions & { tokenIssuer?: string },
): Promise<ManagedProcess[]> {
  const issuerName = options.tokenIssuer ?? "identity";
  const issuers = services.filter((s) => s.name === issuerName);
  let env = options.env;
  if (!env.AUTH_JWKS_URL && !process.env.AUTH_JWKS_URL) env = { ...env, AUTH_JWKS_DISCOVERY: "true", IDENTITY_SERVICE_NAME: issuerName };
  const started = await startServices(issuers, { ...options, env });
  const others = services.filter((s) => s.name !== issuerName);
  return [...started, ...(await startServices(others, { ...options, env }))];
}

/** host:port of a passing instance of `name` in Consul. */
export async function passingAddress(consulAddr: string, name: string): Promise<string> {
  const response = await fetch(`http://${consulAddr}/v1/health/service/${encodeURIComponent(name)}?passing=true`);
  const [entry] = (await response.json()) as Array<{ Service: { Address: string; Port: number }; Node: { Address: string } }>;
  if (!entry) throw new Error(`no passing instance of ${name} in Consul`);
  return `${entry.Service.Address || entry.Node.Address}:${entry.Service.Port}`;
}

/** Whether Consul has at least one instance of `name` with every check passing. */
export async function isPassing(consulAddr: string, name: string): Promise<boolean> {
  const response = await fetch(`http://${consulAddr}/v1/health/service/${encodeURIComponent(name)}?passing=true`);
  if (!response.ok) return false;
  return ((await response.json()) as unknown[]).length > 0;
}
