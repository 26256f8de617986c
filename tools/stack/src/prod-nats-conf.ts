// The prod overlay's nats.conf keeps its servers' settings by hand; its authorization block (a user per
// service, its password the nats container's $NATS_PASSWORD_<SERVICE>) is generated from the services'
// event domains by the same derivation as the local stack's (`npm run generate:nats-conf`; a stack test
// fails while the committed file differs).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { natsAuthorization } from "@bazaar/platform/nats-permissions";
import { natsClients, serviceNatsUsers } from "./nats-users.ts";
import { discoverServices } from "./services.ts";

export const prodNatsConfPath = (root: string) => path.join(root, "deploy/overlays/prod/nats.conf");

/** The prod nats.conf as it should be: the committed file with its authorization block derived anew. */
export async function prodNatsConf(root: string): Promise<string> {
  const current = readFileSync(prodNatsConfPath(root), "utf8");
  const at = current.indexOf("authorization {");
  if (at < 0) throw new Error(`${prodNatsConfPath(root)} has no authorization block to regenerate`);
  const users = await serviceNatsUsers(natsClients(discoverServices(root), root));
  return (
    current.slice(0, at) +
    natsAuthorization(users.map(({ service, events }) => ({ user: service, password: `$NATS_PASSWORD_${service.toUpperCase()}`, events })))
  );
}

/** Rewrites the committed file; `npm run generate:nats-conf`. */
export async function writeProdNatsConf(root: string): Promise<void> {
  writeFileSync(prodNatsConfPath(root), await prodNatsConf(root));
}
