// Typed configuration from the environment, validated once at start (docs/architecture.md, "Config").
//
// Modes: BAZAAR_ENV=development is the explicit local-development mode, the only one where secrets
// (and other variables marked with defaultsByMode) get defaults. Anything else, BAZAAR_ENV unset
// included, is production: a deployment that forgets its environment fails at start instead of
// quietly running on local-development values. The local stack sets BAZAAR_ENV=development.
import { z } from "zod";

export type ConfigMode = "development" | "production";

export interface ConfigProblem {
  /** The environment variable, or "(configuration)" for a problem spanning several. */
  variable: string;
  message: string;
}

/** The environment does not make a valid configuration; `problems` names every offending variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: readonly ConfigProblem[];
  constructor(mode: ConfigMode, problems: ConfigProblem[]) {
    super(
      `invalid configuration (BAZAAR_ENV=${mode}):\n` +
        problems.map((p) => `  - ${p.variable}: ${p.message}`).join("\n") +
        (mode === "production" ? "\n  (for local development with the local stack's defaults, set BAZAAR_ENV=development)" : ""),
    );
    this.problems = problems;
  }
}

interface EnvVarMeta {
  secret?: boolean;
  /** Default when unset in development; `null`: may stay unset in development. Present → required in production unless `production` is given. */
  development?: string | null;
  /** Default when unset in production. */
  production?: string;
}

const envMeta = z.registry<EnvVarMeta>();

/**
 * Marks a variable as secret: its value never appears in error messages, it may not have a zod
 * `.default()`, and `development` (an env string, e.g. a local password) applies only with
 * BAZAAR_ENV=development — elsewhere the variable is required.
 */
export function secret<T extends z.ZodType>(schema: T, options: { development?: string } = {}): T {
  return withMeta(schema, { secret: true, ...(options.development !== undefined ? { development: options.development } : {}) });
}

/**
 * Defaults that depend on the mode, written as the env string they stand for. A mode without a
 * default makes the variable required in that mode; `development: null` lets it stay unset in
 * development (give a schema that accepts undefined) while production requires it.
 *
 *     MIGRATE_ON_START: defaultsByMode(z.stringbool(), { development: "true", production: "false" })
 *     NATS_URL: defaultsByMode(natsUrl, { development: "nats://127.0.0.1:4222" })  // required in production
 */
export function defaultsByMode<T extends z.ZodType>(schema: T, defaults: { development?: string | null; production?: string }): T {
  return withMeta(schema, defaults);
}

function withMeta<T extends z.ZodType>(schema: T, meta: EnvVarMeta): T {
  // A clone, so a schema shared elsewhere does not pick up this variable's rules.
  const copy = schema.clone() as T;
  envMeta.add(copy, { ...envMeta.get(schema), ...meta });
  return copy;
}

/** The mode `env` selects (see the top of this file). */
export function configMode(env: Record<string, string | undefined> = process.env): ConfigMode {
  const raw = env.BAZAAR_ENV;
  if (raw === undefined || raw === "" || raw === "production") return "production";
  if (raw === "development") return "development";
  throw new ConfigError("production", [{ variable: "BAZAAR_ENV", message: `must be "development" or "production" (got ${JSON.stringify(raw)})` }]);
}

/**
 * Reads `schema`'s variables from `env`: each key of the object schema is an environment variable.
 * Coerces and validates them all, and throws one ConfigError listing every problem (values of
 * secrets are never shown). Empty variables count as unset.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: Record<string, string | undefined> = process.env): z.output<S> {
  const mode = configMode(env);
  const problems: ConfigProblem[] = [];
  const input: Record<string, string | undefined> = {};
  const secrets = new Set<string>();
  const reported = new Set<string>();
  for (const [variable, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const meta = envMeta.get(field);
    if (meta?.secret) {
      secrets.add(variable);
      if (hasDefault(field)) throw new TypeError(`config schema: secret ${variable} must not have a .default(); use secret(schema, { development })`);
    }
    let value = env[variable] === "" ? undefined : env[variable];
    if (value === undefined && meta && ("development" in meta || "production" in meta)) {
      const fallback = meta[mode];
      if (fallback === undefined && mode === "production") {
        problems.push({ variable, message: "required (its default applies only with BAZAAR_ENV=development)" });
        reported.add(variable);
        continue;
      }
      value = fallback ?? undefined;
    }
    input[variable] = value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const variable = typeof issue.path[0] === "string" ? issue.path[0] : undefined;
      if (variable === undefined) {
        problems.push({ variable: "(configuration)", message: issue.message });
        continue;
      }
      if (reported.has(variable)) continue;
      const value = input[variable];
      const message =
        value === undefined && issue.code === "invalid_type"
          ? "required (not set)"
          : secrets.has(variable)
            ? issue.message
            : `${issue.message} (got ${JSON.stringify(value)})`;
      problems.push({ variable, message });
    }
  }
  if (problems.length > 0) throw new ConfigError(mode, problems);
  return result.data!;
}

function hasDefault(schema: z.ZodType): boolean {
  const type = (schema as unknown as { _zod: { def: { type: string } } })._zod.def.type;
  return type === "default" || type === "prefault";
}
