// The IdentityService RPCs, composed from one module per concern. In each: input checks first (every
// field bounded, all violations at once), then the domain step in one transaction, events through the
// outbox in that same transaction.
import type { ServiceImpl } from "@connectrpc/connect";
import type { Database, Logger } from "@bazaar/platform";
import type { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { accountHandlers } from "./account-handlers.ts";
import { addressHandlers } from "./addresses.ts";
import { adminHandlers } from "./admin-handlers.ts";
import type { IdentityConfig } from "./config.ts";
import type { SecretBox } from "./crypto.ts";
import type { LoginThrottle } from "./login-throttle.ts";
import { mfaHandlers } from "./mfa-handlers.ts";
import { passwordHandlers } from "./password-handlers.ts";
import type { PasswordHasher } from "./passwords.ts";
import { createReauthentication } from "./reauthentication.ts";
import { createSecondFactor } from "./second-factor.ts";
import { serviceTokenHandlers } from "./service-token-handlers.ts";
import type { ServiceTokenIssuer } from "./service-tokens.ts";
import { sessionHandlers } from "./session-handlers.ts";
import type { Sessions } from "./sessions.ts";
import { signInHandlers } from "./sign-in-handlers.ts";
import { signingKeyHandlers } from "./signing-key-handlers.ts";
import type { KeyStore } from "./signing-keys.ts";
import { normaliseEmail } from "./validation.ts";

export interface IdentityDeps {
  database: Database;
  config: IdentityConfig;
  keyStore: KeyStore;
  sessions: Sessions;
  throttle: LoginThrottle;
  hasher: PasswordHasher;
  secretBox: SecretBox;
  serviceTokens: ServiceTokenIssuer;
  logger: Logger;
}

export function identityHandlers(deps: IdentityDeps): ServiceImpl<typeof IdentityService> {
  const { database, config, keyStore, sessions, throttle, hasher, secretBox, serviceTokens, logger } = deps;
  // Shared by several modules: password re-entry before sensitive changes, and the MFA second factor.
  const reauthenticate = createReauthentication({ database, throttle, hasher });
  const secondFactor = createSecondFactor({ secretBox });
  const adminEmail = config.IDENTITY_ADMIN_EMAIL ? normaliseEmail(config.IDENTITY_ADMIN_EMAIL) : undefined;
  return {
    ...accountHandlers({ database, hasher, sessions, reauthenticate, adminEmail }),
    ...passwordHandlers({ database, hasher, sessions, reauthenticate }),
    ...signInHandlers({ database, sessions, throttle, hasher, secondFactor }),
    ...sessionHandlers({ database, sessions }),
    ...mfaHandlers({ database, secretBox, secondFactor, reauthenticate }),
    ...addressHandlers({ database }),
    ...adminHandlers({ database, sessions, logger }),
    ...signingKeyHandlers({ keyStore }),
    ...serviceTokenHandlers({ serviceTokens }),
  };
}
