// The signing keys' RPCs: the public JWKS (also served as /.well-known/jwks.json) and the admin's
// immediate rotation.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { ADMIN_ROLE, requireRole } from "@bazaar/platform";
import { JsonWebKeySchema, type IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import type { KeyStore } from "./signing-keys.ts";

export interface SigningKeyHandlerDeps {
  keyStore: KeyStore;
}

export function signingKeyHandlers(deps: SigningKeyHandlerDeps): Pick<ServiceImpl<typeof IdentityService>, "getJwks" | "rotateSigningKey"> {
  const { keyStore } = deps;
  return {
    async getJwks() {
      const { keys } = await keyStore.jwks();
      return { keys: keys.map((k) => create(JsonWebKeySchema, k)) };
    },

    async rotateSigningKey() {
      requireRole(ADMIN_ROLE);
      return { kid: await keyStore.rotate() };
    },
  };
}
