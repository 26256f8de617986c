// `npm run admin:bootstrap -w @bazaar/identity -- you@example.com`: makes the existing account with this
// email the shop's first admin, once (refused when an admin exists). Run by an operator with the
// identity service's configuration (DATABASE_URL); registration never grants roles.
import { createDatabase, createLogger, loadConfig } from "@bazaar/platform";
import { identityMigrations } from "../migrations/index.ts";
import { identityConfigSchema } from "./config.ts";
import { identityEntities } from "./entities.ts";
import { grantFirstAdmin } from "./first-admin.ts";

const email = process.argv[2];
if (!email) {
  console.error("usage: admin:bootstrap <email of an existing account>");
  process.exit(2);
}
const config = loadConfig(identityConfigSchema);
const name = process.env.IDENTITY_SERVICE_NAME ?? "identity";
const database = await createDatabase({
  url: config.DATABASE_URL,
  dbName: `bazaar_${name.replaceAll("-", "_")}`,
  entities: identityEntities,
  migrations: identityMigrations,
  migrateOnStart: false,
  poolSize: 1,
  logger: createLogger({ service: "identity-bootstrap", level: "warn" }),
});
const outcome = await grantFirstAdmin(database, email).finally(() => database.close());
const messages = {
  granted: `${email} is now an admin`,
  "admin-exists": "refused: the shop has an admin already (admins grant roles with UpdateUserRoles)",
  "no-account": `refused: no account with the email ${email} (register it first)`,
};
console.log(messages[outcome]);
process.exit(outcome === "granted" ? 0 : 1);
