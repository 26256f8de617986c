import { ensureConsul } from "./consul.ts";
import { ensureNats, type ProvisionedNats } from "./nats.ts";
import { ensurePostgres } from "./postgres.ts";
import type { Supervisor } from "./processes.ts";
import type { Provisioned } from "./provisioned.ts";
import { infrastructureEnv, type StackSettings } from "./settings.ts";

export interface Infrastructure {
  postgres: Provisioned;
  /** Its urlFor(service) is the NATS_URL a service gets (its own user on the stack's own NATS). */
  nats: ProvisionedNats;
  consul: Provisioned;
  /** DATABASE_URL, NATS_URL (the admin user's on the stack's own NATS) and CONSUL_HTTP_ADDR for tools and tests. */
  env: Record<string, string>;
}

/** PostgreSQL, NATS JetStream and Consul: each the configured one if it answers, else a private instance. */
export async function ensureInfrastructure(settings: StackSettings, supervisor: Supervisor): Promise<Infrastructure> {
  const [postgres, nats, consul] = await Promise.all([
    ensurePostgres(settings, supervisor),
    ensureNats(settings, supervisor),
    ensureConsul(settings, supervisor),
  ]);
  return { postgres, nats, consul, env: { ...infrastructureEnv(settings), NATS_URL: nats.adminUrl } };
}
