import type { AnyEntity, Constructor, EntityClass, EntitySchema, MigrationObject } from "@mikro-orm/core";
import { Migrator, type Migration } from "@mikro-orm/migrations";
import { MikroORM, type EntityManager } from "@mikro-orm/postgresql";
import pg from "pg";
import { platformMigrations, platformTables } from "../../migrations/index.ts";
import type { Logger } from "../logger.ts";
import { retireEndedConnections } from "./connection-errors.ts";
import { watchPoolLiveness, type PoolLiveness } from "./pool-liveness.ts";
import { asRole, provisionOwnRole } from "./own-role.ts";

export type { EntityManager } from "@mikro-orm/postgresql";

/** A committed migration: a class (its `name` property, else its class name, is recorded) or a named class. */
export type MigrationEntry = Constructor<Migration> | MigrationObject;

export interface DatabaseOptions {
  /** PostgreSQL server URL, as in DATABASE_URL; its database part is ignored (dbName wins). */
  url: string;
  /** The service's own database, `bazaar_<service>`; created when missing. */
  dbName: string;
  /** Entities made with `defineEntity` (esbuild/tsx emits no decorator metadata). */
  entities: readonly (EntityClass<AnyEntity> | EntitySchema)[];
  /** The service's committed migrations, in order, listed explicitly (no globbing). Default: none. */
  migrations?: readonly MigrationEntry[];
  /** Apply pending migrations before returning. Default true; false leaves it to `migrate()` (e.g. a job). */
  migrateOnStart?: boolean;
  /**
   * Include the platform's outbox and inbox tables (run ahead of the service's migrations, in the same
   * migrations table). Default true; a service that neither publishes nor consumes events may say false.
   */
  events?: boolean;
  /** Most connections the pool opens. Default 10. */
  poolSize?: number;
  /**
   * Connect as a role of the database's own name that owns it and nothing else (see own-role.ts); `url`
   * is then an administrator's, used only to make the role and the database. Default false: `url`'s
   * credentials are the service's own.
   */
  ownRole?: boolean;
  logger: Logger;
}

export interface Database {
  readonly orm: MikroORM;
  readonly dbName: string;
  /** Connection URL of the service's own database (for the relay's dedicated LISTEN connection). */
  readonly url: string;
  /** A fresh EntityManager (a fork with its own identity map): one per request or message. */
  em(): EntityManager;
  /** Runs `fn` in a transaction on a fresh EntityManager: flushed and committed on success, rolled back if it throws. */
  transaction<T>(fn: (em: EntityManager) => Promise<T>): Promise<T>;
  /** Applies pending migrations (serialised across instances) and returns the names applied. */
  migrate(): Promise<string[]>;
  /** Readiness: a connection came back from a query within two seconds, else a `select 1` answers within two. */
  isConnected(): Promise<boolean>;
  close(): Promise<void>;
}

/** Thrown for options that cannot work; the message says which and why. */
export class DatabaseConfigError extends Error {
  override name = "DatabaseConfigError";
}

// Serialises migrations of one database across instances that start together. Advisory locks are
// scoped to the database, so one constant key is enough.
const MIGRATION_LOCK_KEY = 7_322_775_301;

/**
 * Connects a service to its own PostgreSQL database through MikroORM, creating the database when it is
 * missing and applying the committed migrations (platform's first) unless told not to.
 */
export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  const { dbName, logger } = options;
  const poolSize = options.poolSize ?? 10;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(dbName)) {
    throw new DatabaseConfigError(`dbName "${dbName}" must be lower-case letters, digits and underscores (at most 63), e.g. bazaar_order`);
  }
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new DatabaseConfigError(`poolSize must be a positive integer, got ${poolSize}`);
  }
  const administered = withDatabase(options.url, dbName);
  const url = options.ownRole ? asRole(administered, dbName) : administered;

  const created = options.ownRole
    ? await provisionOwnRole(withDatabase(options.url, "postgres"), administered, dbName, dbName)
    : await ensureDatabaseExists(withDatabase(options.url, "postgres"), dbName);
  if (created) logger.info({ db: dbName, ...(options.ownRole ? { role: dbName } : {}) }, "created database");

  let liveness: PoolLiveness | undefined;
  const orm = await MikroORM.init({
    clientUrl: url,
    dbName,
    entities: [...options.entities],
    extensions: [Migrator],
    // Created above, race-safely; MikroORM's own check would switch databases under our feet.
    ensureDatabase: false,
    pool: { min: 0, max: poolSize },
    // A connection the server ended (restart, failover, terminated session) never serves another query.
    driverOptions: {
      onPoolCreated: (pool: pg.Pool) => {
        retireEndedConnections(pool, { onLeak: (error) => logger.warn({ db: dbName, err: error }, "released a dead connection") });
        liveness = watchPoolLiveness(pool);
      },
    },
    allowGlobalContext: false,
    discovery: { warnWhenNoEntities: false },
    logger: (message) => logger.debug({ component: "mikro-orm" }, message),
    migrations: {
      migrationsList: [...(options.events === false ? [] : platformMigrations), ...(options.migrations ?? [])],
      // Migrations are code here; a snapshot file would be written next to nothing (or the cwd).
      snapshot: false,
      silent: true,
      transactional: true,
      allOrNothing: true,
    },
    // Generated service migrations must never drop the platform's tables.
    schemaGenerator: { skipTables: [...platformTables] },
  });

  async function migrate(): Promise<string[]> {
    // A session lock on a connection of its own: a second instance waits here, then finds nothing pending.
    const lock = new pg.Client({ connectionString: url });
    await lock.connect();
    try {
      await lock.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
      const applied = (await orm.migrator.up()).map((m) => m.name);
      if (applied.length > 0) logger.info({ db: dbName, migrations: applied }, "applied migrations");
      return applied;
    } finally {
      await lock.end().catch(() => undefined); // ending the session releases the lock
    }
  }

  try {
    if (options.migrateOnStart ?? true) await migrate();
  } catch (error) {
    await orm.close(true);
    throw error;
  }

  return {
    orm,
    dbName,
    url,
    em: () => orm.em.fork(),
    transaction: (fn) => orm.em.fork().transactional(fn),
    migrate,
    isConnected: async () => {
      if (liveness?.answeredWithin(2000)) return true;
      const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, 2000, false).unref());
      return Promise.race([orm.isConnected().catch(() => false), timeout]);
    },
    close: () => {
      liveness = undefined;
      return orm.close(true);
    },
  };
}

/** The database of the service named `name`: bazaar_<name, - → _>, e.g. bazaar_order. */
export function serviceDatabaseName(name: string): string {
  return `bazaar_${name.replaceAll("-", "_")}`;
}

/** `url` pointing at database `dbName`. */
export function withDatabase(url: string, dbName: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseConfigError(`database url is not a URL (expected postgres://user@host:5432/db): ${redact(url)}`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new DatabaseConfigError(`database url must start with postgres:// or postgresql://, got ${parsed.protocol}//`);
  }
  parsed.pathname = `/${encodeURIComponent(dbName)}`;
  return parsed.toString();
}

/** Creates `dbName` through the server's `postgres` database; true when this call created it. */
async function ensureDatabaseExists(managementUrl: string, dbName: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: managementUrl });
  await client.connect();
  try {
    const existing = await client.query("select 1 from pg_database where datname = $1", [dbName]);
    if (existing.rowCount) return false;
    try {
      await client.query(`create database ${pg.escapeIdentifier(dbName)}`);
      return true;
    } catch (error) {
      // Another instance created it between our check and our create.
      const code = (error as { code?: string }).code;
      if (code === "42P04" /* duplicate_database */ || code === "23505" /* unique_violation */) return false;
      throw error;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
