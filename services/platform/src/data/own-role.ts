// Least privilege in PostgreSQL: a service connects as a role of its own, named like its database,
// which owns that database and nothing else; no other role but superusers may even connect to it.
// Provisioning needs an administrator (CREATEROLE and CREATEDB, or a superuser): the local stack and the
// tests hand the platform the server's administrator URL and it makes the role, the database and the
// hand-over; production provisions them ahead and gives each service its own role's URL.
import pg from "pg";

/** `url` with its user replaced by `role` (and no password: the local server trusts local connections). */
export function asRole(url: string, role: string): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(role);
  parsed.password = "";
  return parsed.toString();
}

/**
 * Makes `role` (LOGIN, no other attribute) and `dbName` owned by it when missing, closes the database to
 * every other role (CONNECT and TEMPORARY revoked from PUBLIC), and hands it whatever an earlier
 * administrator-run start created in it (tables and their sequences, views, functions), so its
 * migrations can alter them. `adminUrl` names the server's `postgres` database. True when the
 * database was created.
 */
export async function provisionOwnRole(adminUrl: string, databaseUrl: string, dbName: string, role: string): Promise<boolean> {
  const ident = pg.escapeIdentifier;
  let created = false;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Instances starting together take turns (roles and databases are server-wide).
    await admin.query("select pg_advisory_lock(hashtext($1))", [`bazaar-provision:${dbName}`]);
    const exists = await admin.query("select 1 from pg_roles where rolname = $1", [role]);
    if (!exists.rowCount) await admin.query(`create role ${ident(role)} login nosuperuser nocreatedb nocreaterole`);
    const database = await admin.query<{ owner: string }>("select pg_get_userbyid(datdba) as owner from pg_database where datname = $1", [dbName]);
    if (!database.rowCount) {
      await admin.query(`create database ${ident(dbName)} owner ${ident(role)}`);
      created = true;
    } else if (database.rows[0]!.owner !== role) {
      await admin.query(`alter database ${ident(dbName)} owner to ${ident(role)}`);
    }
    await admin.query(`revoke connect, temporary on database ${ident(dbName)} from public`);
    // Still under the lock: two hand-overs at once fail with "tuple concurrently updated".
    await handOver(databaseUrl, role);
  } finally {
    await admin.end().catch(() => undefined); // ending the session releases the lock
  }
  return created;
}

/** Gives `role` the public schema and the objects in it it does not own (extensions' members stay theirs). */
async function handOver(adminDatabaseUrl: string, role: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl });
  await client.connect();
  try {
    await client.query(
      `do $$
       declare r record;
       begin
         -- Owned by the administrator where the server's template predates PostgreSQL 15's pg_database_owner.
         execute format('alter schema public owner to %I', '${role}');
         for r in
           select c.oid::regclass as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and c.relowner <> '${role}'::regrole
             and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i', 'e'))
         loop
           execute format('alter table %s owner to %I', r.name, '${role}');
         end loop;
         for r in
           select p.oid::regprocedure as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
           where n.nspname = 'public' and p.proowner <> '${role}'::regrole
             and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
         loop
           execute format('alter function %s owner to %I', r.name, '${role}');
         end loop;
       end $$`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
