// What tools and tests may import from identity.
export { identity, type IdentityOptions, type IdentityServiceDefinition } from "./server.ts";
export { identityConfigSchema, type IdentityConfig } from "./config.ts";
export { identityEntities } from "./entities.ts";
export { identityMigrations } from "../migrations/index.ts";
export { currentTotp } from "./mfa.ts";
export { createPasswordHasher, passwordProblem } from "./passwords.ts";
export { grantFirstAdmin, type FirstAdminOutcome } from "./first-admin.ts";
