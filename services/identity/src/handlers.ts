// The IdentityService RPCs, composed from one module per concern. In each: input checks first (every
// field bounded, all violations at once), then the domain step in one transaction, events through the
// outbox in that same transaction.
import type { Client, ServiceImpl } from "@connectrpc/connect";
import type { Database, Logger, Sealer } from "@bazaar/platform";
import type { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import type { PersonalDataService } from "@bazaar/contracts/bazaar/privacy/v1/personal_data_service_pb";
import { accountHandlers } from "./account-handlers.ts";
import { addressHandlers } from "./addresses.ts";
import { adminHandlers } from "./admin-handlers.ts";
import type { IdentityConfig } from "./config.ts";
import type { SecretBox } from "./crypto.ts";
import { createEmailRequestThrottle, type LoginThrottle } from "./login-throttle.ts";
import { mfaHandlers } from "./mfa-handlers.ts";
import { passwordHandlers } from "./password-handlers.ts";
import { personalDataExportHandlers } from "./personal-data-export.ts";
import type { PasswordResets } from "./password-resets.ts";
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

export interface IdentityDeps {
  database: Database;
  config: IdentityConfig;
  keyStore: KeyStore;
  sessions: Sessions;
  throttle: LoginThrottle;
  hasher: PasswordHasher;
  secretBox: SecretBox;
  serviceTokens: ServiceTokenIssuer;
  /** Seals verification and reset tokens to the notification service's key (IDENTITY_EMAIL_TOKEN_SEALING_KEY). */
  emailTokenSealer: Sealer;
  /** The queue of password resets (answered before the account is looked up). */
  resets: PasswordResets;
  /** A client of PersonalDataService at a holder of personal data (IDENTITY_PERSONAL_DATA_HOLDERS), with identity's own token. */
  personalDataHolder(holder: string): Client<typeof PersonalDataService>;
  logger: Logger;
}

export function identityHandlers(deps: IdentityDeps): ServiceImpl<typeof IdentityService> {
  const { database, config, keyStore, sessions, throttle, hasher, secretBox, serviceTokens, emailTokenSealer, resets, personalDataHolder, logger } = deps;
  // Shared by several modules: password re-entry before sensitive changes, and the MFA second factor.
  const reauthenticate = createReauthentication({ database, throttle, hasher });
  const emailRequests = createEmailRequestThrottle(throttle, {
    freePerSubject: config.IDENTITY_EMAIL_REQUESTS_FREE_PER_ACCOUNT,
    freePerAddress: config.IDENTITY_EMAIL_REQUESTS_FREE_PER_ADDRESS,
  });
  const secondFactor = createSecondFactor({ secretBox });
  return {
    ...accountHandlers({ database, hasher, sessions, reauthenticate, emailTokenSealer, emailRequests }),
    ...passwordHandlers({ database, hasher, sessions, reauthenticate, resets, emailRequests }),
    ...signInHandlers({ database, sessions, throttle, hasher, secondFactor }),
    ...sessionHandlers({ database, sessions }),
    ...mfaHandlers({ database, secretBox, secondFactor, reauthenticate }),
    ...addressHandlers({ database }),
    ...adminHandlers({ database, sessions, logger }),
    ...signingKeyHandlers({ keyStore }),
    ...serviceTokenHandlers({ serviceTokens }),
    ...personalDataExportHandlers({ database, holders: config.IDENTITY_PERSONAL_DATA_HOLDERS, holderClient: personalDataHolder }),
  };
}
