// Customers: accounts by email fragment (keyset pages), their roles (customer, admin) and whether
// they may sign in; disabling (which revokes their sessions) and role changes are confirmed; an
// account's sessions (signed-in devices) with revoking one, confirmed.
import { useState } from "react";
import { Role, type User } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { ConfirmButton, enumName, formatTime, Pager, Refusal, useAction, useLoad, usePages, useStaff } from "./ui.tsx";

export function CustomersPage() {
  const staff = useStaff();
  const [query, setQuery] = useState("");
  const pages = usePages(query);
  const users = useLoad(() => staff.identity.listUsers({ query, pageSize: 25, pageToken: pages.token }), [query, pages.token]);
  const action = useAction();
  const [sessionsOf, setSessionsOf] = useState<User>();
  const run = (work: () => Promise<unknown>) => void action.run(work).then(users.reload);
  return (
    <section>
      <h1>Customers</h1>
      <form className="filters" role="search" aria-label="Find accounts" onSubmit={(event) => { event.preventDefault(); setQuery(String(new FormData(event.currentTarget).get("q")).trim()); }}>
        <p className="field"><label htmlFor="user-q">Email contains</label><input id="user-q" name="q" type="search" defaultValue={query} /></p>
        <button type="submit">Find</button>
      </form>
      <Refusal error={users.error ?? action.error} />
      <table className="data" aria-busy={users.loading}>
        <caption className="visually-hidden">Accounts</caption>
        <thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Roles</th><th scope="col">State</th><th scope="col">Since</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {users.data?.users.map((user) => (
            <tr key={user.id}>
              <td>{user.email}{user.emailVerified ? "" : " (unverified)"}</td>
              <td>{user.displayName}</td>
              <td>{user.roles.map((r) => enumName(Role, r)).join(", ")}{user.mfaEnabled ? " · MFA" : ""}</td>
              <td>{user.disabled ? "disabled" : "active"}</td>
              <td>{formatTime(user.createTime)}</td>
              <td>
                <UserActions user={user} self={user.id === staff.user.id} busy={action.busy} run={run} />
                <button type="button" className="secondary" onClick={() => setSessionsOf(user)}>Sessions of {user.email}</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pages={pages} nextToken={users.data?.nextPageToken} />
      {sessionsOf && <Sessions key={sessionsOf.id} user={sessionsOf} />}
    </section>
  );
}

/** An account's active sessions, newest first (identity lists at most 100), each revocable. */
function Sessions({ user }: { user: User }) {
  const staff = useStaff();
  const sessions = useLoad(() => staff.identity.listSessions({ userId: user.id }), [user.id]);
  const action = useAction();
  const [done, setDone] = useState<string>();
  const revoke = (sessionId: string) =>
    void action.run(() => staff.identity.revokeSession({ userId: user.id, sessionId })).then((ok) => {
      if (ok) setDone(`Revoked: that device of ${user.email} can no longer renew its sign-in (its short-lived access token lapses soon after).`);
      sessions.reload();
    });
  return (
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions of {user.email}</h2>
      <Refusal error={sessions.error ?? action.error} />
      {done && <p role="status">{done}</p>}
      <table className="data" aria-busy={sessions.loading}>
        <thead><tr><th scope="col">Session</th><th scope="col">Signed in</th><th scope="col">Last used</th><th scope="col">Device</th><th scope="col">Address</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {sessions.data?.sessions.map((s, i) => (
            <tr key={s.id}>
              <td>{s.id}{s.current ? " (this console)" : ""}</td>
              <td>{formatTime(s.createTime)}</td>
              <td>{formatTime(s.lastUsedTime)}</td>
              <td>{s.userAgent || "—"}</td>
              <td>{s.ipAddress || "—"}</td>
              <td>
                <ConfirmButton label={`Revoke session ${i + 1}`} question={`Revoke this session of ${user.email}? That device has to sign in again.`} confirmLabel="Revoke session" disabled={action.busy}
                  onConfirm={() => revoke(s.id)} />
              </td>
            </tr>
          ))}
          {sessions.data && sessions.data.sessions.length === 0 && <tr><td colSpan={6}>No active sessions.</td></tr>}
        </tbody>
      </table>
    </section>
  );
}

function UserActions({ user, self, busy, run }: { user: User; self: boolean; busy: boolean; run: (work: () => Promise<unknown>) => void }) {
  const staff = useStaff();
  const admin = user.roles.includes(Role.ADMIN);
  return (
    <div className="actions">
      <ConfirmButton label={admin ? `Remove admin from ${user.email}` : `Make ${user.email} admin`} question={admin ? `Remove the admin role from ${user.email}?` : `Give ${user.email} the admin role? They can then run the whole shop.`} confirmLabel={admin ? "Remove admin" : "Make admin"} disabled={busy}
        onConfirm={() => run(() => staff.identity.setUserRoles({ userId: user.id, roles: admin ? [Role.CUSTOMER] : [Role.CUSTOMER, Role.ADMIN] }))} />
      {user.disabled ? (
        <button type="button" className="secondary" disabled={busy} onClick={() => run(() => staff.identity.enableUser({ userId: user.id }))}>Enable {user.email}</button>
      ) : (
        !self && <ConfirmButton label={`Disable ${user.email}`} question={`Disable ${user.email}? They are signed out everywhere and cannot sign in.`} confirmLabel="Disable account" disabled={busy}
          onConfirm={() => run(() => staff.identity.disableUser({ userId: user.id }))} />
      )}
    </div>
  );
}
