// A user's download of their data, service by service: identity's ExportPersonalData asks every
// service holding something about the person for its part through one internal contract
// (bazaar.privacy.v1.PersonalDataService), which each such service serves by naming, in its setup,
// the function that gathers the part from its own database (ServiceSetup.personalData).
import type { ConnectRouter } from "@connectrpc/connect";
import { PersonalDataService } from "@bazaar/contracts/bazaar/privacy/v1/personal_data_service_pb";
import { requirePrincipal } from "./auth/require.ts";
import { InvalidArgumentError, PermissionDeniedError } from "./errors.ts";

/**
 * What a service holds about `userId`, as a plain object of its rows (dates become ISO text, bigints
 * decimal text). Only that user's data; never secrets, hashes or another person's details.
 */
export type GatherPersonalData = (userId: string) => Promise<Record<string, unknown>>;

/**
 * Registers PersonalDataService on `router`, answering with `service`'s section (the service's
 * identity, e.g. "order", not a test's unique name). Only a service token passes here, and the
 * mesh's service-permission table admits only identity's: a user — even an admin — asks identity,
 * which gathers every section of their own data.
 */
export function servePersonalDataExport(router: ConnectRouter, service: string, gather: GatherPersonalData): void {
  router.service(PersonalDataService, {
    async exportPersonalData(request) {
      const principal = requirePrincipal();
      if (principal.kind !== "service") {
        throw new PermissionDeniedError("personal data is exported through identity's ExportPersonalData", { reason: "SERVICE_REQUIRED" });
      }
      if (request.userId === "") throw new InvalidArgumentError({ field: "user_id", description: "is required" });
      return { service, json: personalDataJson(await gather(request.userId)) };
    },
  });
}

/** JSON of gathered rows: bigints (counts, minor amounts from PostgreSQL) as decimal text, dates as ISO text. */
export function personalDataJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/**
 * `parents` (rows with an `id`) each with its `children` — those whose `key` is the parent's id — under
 * `field`, the key left out: a download's orders with their lines, payments with their operations.
 */
export function withChildren<P extends { id: string }, C extends { [k in K]: string }, K extends keyof C & string, F extends string>(
  parents: readonly P[],
  children: readonly C[],
  key: K,
  field: F,
): Array<P & { [f in F]: Omit<C, K>[] }> {
  const byParent = new Map<string, Omit<C, K>[]>();
  for (const child of children) {
    const { [key]: parentId, ...rest } = child;
    const list = byParent.get(parentId) ?? [];
    list.push(rest as Omit<C, K>);
    byParent.set(parentId, list);
  }
  return parents.map((parent) => ({ ...parent, [field]: byParent.get(parent.id) ?? [] }) as P & { [f in F]: Omit<C, K>[] });
}
