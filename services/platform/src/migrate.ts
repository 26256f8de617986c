// Applying a service's committed migrations and nothing else: what production's migration Job runs
// (`src/main.ts migrate`, see deploy/README.md) before the rollout, so the services themselves start
// with MIGRATE_ON_START off and never need more than their own role's rights.
import { createDatabase, serviceDatabaseName } from "./data/database.ts";
import type { Logger } from "./logger.ts";
import type { DatabaseDeclaration } from "./service.ts";
import type { PlatformConfig } from "./config/platform-schema.ts";

/** The argument that turns a service's main into its migration run: `node … src/main.ts migrate`. */
export const MIGRATE_COMMAND = "migrate";

/**
 * Creates the service's database when missing (as DATABASE_OWN_ROLE says), applies its pending
 * migrations (the platform's outbox and inbox first, when it uses events), closes the connection and
 * returns the names applied. A definition without a database applies nothing.
 */
export async function migrateService(
  definition: { name: string; database?: DatabaseDeclaration | undefined; publishes?: readonly string[]; consumes?: readonly string[] },
  options: { config: Pick<PlatformConfig, "DATABASE_URL" | "DATABASE_OWN_ROLE">; logger: Logger },
): Promise<string[]> {
  if (!definition.database) return [];
  const database = await createDatabase({
    url: options.config.DATABASE_URL,
    dbName: serviceDatabaseName(definition.name),
    ...definition.database,
    events: (definition.publishes?.length ?? 0) > 0 || (definition.consumes?.length ?? 0) > 0,
    migrateOnStart: false,
    ownRole: options.config.DATABASE_OWN_ROLE,
    poolSize: 1,
    logger: options.logger,
  });
  try {
    return await database.migrate();
  } finally {
    await database.close();
  }
}
