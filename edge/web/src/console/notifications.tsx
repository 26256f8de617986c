// The notification log: every message the notification service made, newest first (keyset pages),
// by status — recipient, template, subject, channel, attempts, the provider's id and the last error.
// The contract lists messages by status only (ListNotifications has no recipient or user filter), so
// there is no per-customer log; the section is hidden while the service is absent (sections.ts).
import { useState } from "react";
import { NotificationChannel, NotificationStatus } from "@bazaar/contracts/bazaar/notification/v1/notification_pb";
import { enumName, formatTime, FormRow, Pager, Refusal, useLoad, usePages, useStaff } from "./ui.tsx";

const statuses = [NotificationStatus.QUEUED, NotificationStatus.SENT, NotificationStatus.FAILED, NotificationStatus.SUPPRESSED, NotificationStatus.EXPIRED];

export function NotificationsPage() {
  const staff = useStaff();
  const [status, setStatus] = useState<NotificationStatus>(NotificationStatus.UNSPECIFIED);
  const pages = usePages(String(status));
  const log = useLoad(() => staff.notifications.listNotifications({ status, pageSize: 50, pageToken: pages.token }), [status, pages.token]);
  return (
    <section>
      <h1>Notifications</h1>
      <div className="filters">
        <FormRow id="notification-status" label="Status">
          <select id="notification-status" value={status} onChange={(e) => setStatus(Number(e.target.value) as NotificationStatus)}>
            <option value={NotificationStatus.UNSPECIFIED}>Any</option>
            {statuses.map((s) => <option key={s} value={s}>{enumName(NotificationStatus, s)}</option>)}
          </select>
        </FormRow>
      </div>
      <Refusal error={log.error} />
      <table className="data" aria-busy={log.loading}>
        <caption className="visually-hidden">Messages sent</caption>
        <thead><tr><th scope="col">Made</th><th scope="col">To</th><th scope="col">Channel</th><th scope="col">Template</th><th scope="col">Subject</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Sent</th><th scope="col">Last error</th></tr></thead>
        <tbody>
          {log.data?.notifications.map((n) => (
            <tr key={n.id}>
              <td>{formatTime(n.createTime)}</td>
              <td>{n.recipient}</td>
              <td>{enumName(NotificationChannel, n.channel)}</td>
              <td>{n.template}</td>
              <td>{n.subject}</td>
              <td>{enumName(NotificationStatus, n.status)}</td>
              <td>{n.attempts}</td>
              <td>{formatTime(n.sentTime)}</td>
              <td>{n.lastError || "—"}</td>
            </tr>
          ))}
          {log.data && log.data.notifications.length === 0 && <tr><td colSpan={9}>No messages.</td></tr>}
        </tbody>
      </table>
      <Pager pages={pages} nextToken={log.data?.nextPageToken} />
    </section>
  );
}
