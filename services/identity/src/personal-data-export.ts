// A user's download of their data (ExportPersonalData): identity's own section, then every service
// holding something about the person (IDENTITY_PERSONAL_DATA_HOLDERS) asked on identity's own
// authority through bazaar.privacy.v1.PersonalDataService. All or nothing: a holder that cannot answer
// fails the download naming it, so a user never takes a partial document for the whole.
import { Code, ConnectError, type Client, type ServiceImpl } from "@connectrpc/connect";
import { dependencyUnavailable, personalDataJson, requireUser, type Database, type EntityManager } from "@bazaar/platform";
import type { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { PersonalDataService } from "@bazaar/contracts/bazaar/privacy/v1/personal_data_service_pb";
import { loadReachableUser, tables } from "./users.ts";

export interface PersonalDataExportDeps {
  database: Database;
  /** The services asked for their part, by their default Consul names (e.g. "order"). */
  holders: readonly string[];
  /** A client of PersonalDataService at a holder, carrying identity's own service token. */
  holderClient(holder: string): Client<typeof PersonalDataService>;
}

export function personalDataExportHandlers(deps: PersonalDataExportDeps): Pick<ServiceImpl<typeof IdentityService>, "exportPersonalData"> {
  const { database, holders, holderClient } = deps;
  return {
    async exportPersonalData() {
      // Only ever the token's own user: there is no user id to ask for someone else's.
      const userId = requireUser().subject;
      const own = await identitySection(database.em(), userId);
      // Every holder is let finish (none is cut off mid-answer); the first that failed fails the whole:
      // an unreachable one as unavailable naming it, anything else as the platform maps a dependency's
      // failure (the caller's deadline stays a deadline; a holder's bug is identity's internal error).
      const answers = await Promise.allSettled(holders.map((holder) => holderClient(holder).exportPersonalData({ userId })));
      const parts = answers.map((answer, i) => {
        const holder = holders[i]!;
        if (answer.status === "fulfilled") return [holder, JSON.parse(answer.value.json) as unknown] as const;
        const e = ConnectError.from(answer.reason);
        if (e.code === Code.Unavailable || e.code === Code.ResourceExhausted) {
          throw dependencyUnavailable(holder, e, "no data was exported");
        }
        throw e;
      });
      const services = Object.fromEntries([["identity", own], ...parts]);
      return { json: personalDataJson({ user_id: userId, exported_at: new Date(), services }) };
    },
  };
}

/**
 * What identity holds about `userId`: profile, addresses, sessions (devices) and whether MFA is on —
 * never the password hash, MFA secrets, recovery codes or refresh tokens.
 */
export async function identitySection(em: EntityManager, userId: string): Promise<Record<string, unknown>> {
  const user = await loadReachableUser(em, userId);
  const t = tables(em);
  const addresses = await t
    .selectFrom("addresses")
    .select(["id", "recipient_name", "line1", "line2", "city", "region", "postal_code", "country_code", "phone", "default_shipping", "default_billing", "created_at"])
    .where("user_id", "=", userId)
    .orderBy("created_at")
    .execute();
  const sessions = await t
    .selectFrom("sessions")
    .select(["id", "user_agent", "ip_address", "created_at", "last_used_at", "expires_at", "revoked_at"])
    .where("user_id", "=", userId)
    .orderBy("created_at")
    .execute();
  return {
    profile: {
      id: user.id,
      email: user.email,
      display_name: user.display_name,
      phone: user.phone,
      email_verified_at: user.email_verified_at,
      roles: user.roles,
      created_at: user.created_at,
    },
    mfa_enabled: user.mfa_enabled_at !== null,
    addresses,
    sessions,
  };
}
