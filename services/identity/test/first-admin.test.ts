// The first admin comes from an operator's one-time command, never from registering an address.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test from "ava";
import { Role } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { signedUpUser, startIdentity, unique, type StartedIdentity } from "./helpers.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
let identity: StartedIdentity;
test.before(async () => (identity = await startIdentity({ DB_POOL_SIZE: "3" })));
test.after.always(() => identity?.stop());

/** Runs `npm run admin:bootstrap`'s program against this test's identity database. */
async function bootstrap(email: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await promisify(execFile)(path.join(root, "node_modules/.bin/tsx"), [path.join(root, "services/identity/src/bootstrap-admin.ts"), email], {
      env: { ...process.env, BAZAAR_ENV: "development", IDENTITY_SERVICE_NAME: identity.name, LOG_LEVEL: "silent" },
    });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, output: failed.stdout };
  }
}

test.serial("registering grants no role, whatever the address; admin:bootstrap makes one existing account admin, once", async (t) => {
  // What IDENTITY_ADMIN_EMAIL used to hand to whoever registered the address first.
  const squatter = await signedUpUser(identity, { email: `admin@${identity.name}.test` });
  t.deepEqual((await squatter.client.getUser({ userId: squatter.userId })).user?.roles, [Role.CUSTOMER]);

  const missing = await bootstrap(`${unique("nobody")}@example.com`);
  t.is(missing.code, 1);
  t.regex(missing.output, /no account/);

  const owner = await signedUpUser(identity);
  const granted = await bootstrap(owner.email.toUpperCase());
  t.is(granted.code, 0, granted.output);
  const [row] = await identity.sql<{ roles: string[] }>("select roles from users where id = ?", [owner.userId]);
  t.deepEqual(row?.roles, ["customer", "admin"]);

  const second = await bootstrap(squatter.email);
  t.is(second.code, 1, "one-time: refused once an admin exists");
  t.regex(second.output, /has an admin already/);
  const [squatterRow] = await identity.sql<{ roles: string[] }>("select roles from users where id = ?", [squatter.userId]);
  t.deepEqual(squatterRow?.roles, ["customer"]);
});
