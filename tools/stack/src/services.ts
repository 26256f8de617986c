import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { poolBudget } from "./pool-budget.ts";
import { bundleArgs, buildServiceBundles } from "./service-bundles.ts";
import type { ManagedProcess, Supervisor } from "./processes.ts";
import type { RestartPolicy } from "./restart-policy.ts";
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
  /** Processes per service (default 1); each waits until that many instances pass in Consul. */
  instances?: number;
  /** Extra environment for instance `n` (1-based) of a service, e.g. a port of its own. */
  instanceEnv?: (service: ServiceDefinition, n: number) => Record<string, string>;
  /** Restart a process that ends without being stopped (see RestartPolicy). Default: not restarted. */
  restart?: RestartPolicy | boolean;
}

/** One process of a service: `name` is its log prefix and INSTANCE_ID, `<service>-<n>`. */
export interface ServiceInstance {
  service: ServiceDefinition;
  /** 1-based. */
  n: number;
  id: string;
  process: ManagedProcess;
}

/**
 * Bundles each service (service-bundles.ts), starts it on the current Node and waits until Consul reports it passing (as
 * many passing instances as were started). Each process gets INSTANCE_ID=`<service>-<n>`, a stable
 * name of its own; a service that exits before it is healthy fails the start at once.
 */
export async function startServices(services: ServiceDefinition[], options: StartServicesOptions): Promise<ManagedProcess[]> {
  return (await startServiceInstances(services, options)).map((instance) => instance.process);
}

/** startServices, returning which service and instance number each process is. */
export async function startServiceInstances(services: ServiceDefinition[], options: StartServicesOptions): Promise<ServiceInstance[]> {
  const count = options.instances ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`instances must be a whole number >= 1 (got ${count})`);
  await buildServiceBundles(services);
  const started = services.flatMap((service) =>
    Array.from({ length: count }, (_, i) => {
      const n = i + 1;
      const id = `${service.name}-${n}`;
      const process_ = options.supervisor.start({
        name: count > 1 ? id : service.name,
        command: process.execPath,
        args: bundleArgs(service),
        cwd: service.dir,
        env: { ...process.env, ...options.env, INSTANCE_ID: id, ...options.instanceEnv?.(service, n) },
        restart: options.restart,
      });
      return { service, n, id, process: process_ };
    }),
  );
  await Promise.all(
    services.map((service) => {
      const own = started.filter((s) => s.service === service);
      return waitFor(async () => (await passingCount(options.consulAddr, service.name)) >= count, {
        what: `${service.name} to be healthy in Consul`,
        timeoutMs: options.healthyTimeoutMs ?? 60_000,
        intervalMs: 250,
        // Any exit before the service is healthy fails the start, even one a restart policy would retry.
        abortReason: () => own.map((s) => s.process.exitReason() ?? s.process.lastExit()).find(Boolean),
      });
    }),
  );
  return started;
}

/**
 * Starts the token issuer (identity) first, then everything else. Every service finds the issuer's
 * JWKS through Consul (AUTH_JWKS_DISCOVERY, IDENTITY_SERVICE_NAME), never at a pinned address, so a
 * restarted identity on a new port, or several of them, keep verifying. An AUTH_JWKS_URL already set
 * (a fixed address) is passed on as it is. Unless DB_POOL_SIZE is set, each process's connection pool
 * is sized so that all of them fit in the server's max_connections (see pool-budget.ts).
 */
export async function startMesh(
  services: ServiceDefinition[],
  options: StartServicesOptions & { tokenIssuer?: string },
): Promise<ServiceInstance[]> {
  const issuerName = options.tokenIssuer ?? "identity";
  const issuers = services.filter((s) => s.name === issuerName);
  let env = options.env;
  if (!env.AUTH_JWKS_URL && !process.env.AUTH_JWKS_URL) env = { ...env, AUTH_JWKS_DISCOVERY: "true", IDENTITY_SERVICE_NAME: issuerName };
  const databaseUrl = env.DATABASE_URL ?? process.env.DATABASE_URL;
  if (databaseUrl && !env.DB_POOL_SIZE && !process.env.DB_POOL_SIZE) {
    const { perProcess } = await poolBudget(databaseUrl, services.length * (options.instances ?? 1));
    env = { ...env, DB_POOL_SIZE: String(perProcess) };
  }
  const started = await startServiceInstances(issuers, { ...options, env });
  const others = services.filter((s) => s.name !== issuerName);
  return [...started, ...(await startServiceInstances(others, { ...options, env }))];
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
  return (await passingCount(consulAddr, name)) > 0;
}

/** How many instances of `name` Consul has with every check passing. */
export async function passingCount(consulAddr: string, name: string): Promise<number> {
  return (await passingIds(consulAddr, name)).length;
}

/** The Consul service ids of the passing instances of `name`. */
export async function passingIds(consulAddr: string, name: string): Promise<string[]> {
  const response = await fetch(`http://${consulAddr}/v1/health/service/${encodeURIComponent(name)}?passing=true`);
  if (!response.ok) throw new Error(`Consul answered ${response.status} for the instances of ${name}`);
  return ((await response.json()) as Array<{ Service: { ID: string } }>).map((entry) => entry.Service.ID);
}
