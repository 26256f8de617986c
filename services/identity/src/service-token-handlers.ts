// IssueServiceToken: a service of the mesh exchanges its client secret for an access token.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { violations } from "@bazaar/platform";
import type { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { SERVICE_NAME, type ServiceTokenIssuer } from "./service-tokens.ts";

export interface ServiceTokenHandlerDeps {
  serviceTokens: ServiceTokenIssuer;
}

export function serviceTokenHandlers(deps: ServiceTokenHandlerDeps): Pick<ServiceImpl<typeof IdentityService>, "issueServiceToken"> {
  const { serviceTokens } = deps;
  return {
    async issueServiceToken(req) {
      const v = violations();
      if (v.check(req.service !== "", "service", "is required")) v.check(SERVICE_NAME.test(req.service), "service", "must be 1–63 of a–z, 0–9 and -");
      v.throwIfAny();
      const { token, expiresAt } = await serviceTokens.issue(req.service, req.clientSecret);
      return { accessToken: token, expireTime: timestampFromDate(expiresAt) };
    },
  };
}
