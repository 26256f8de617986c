// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/** Messages (one per event, recipient and channel), contacts, preferences and the development providers' recordings. */
export class NotificationSchema extends Migration {
  override name = "notification_0001_schema";
  override up(): void {
    // The unique constraint is what makes a redelivered event send nothing twice.
    this.addSql(`create table message (
      id uuid primary key,
      event_id text not null check (length(event_id) between 1 and 200),
      user_id uuid,
      channel text not null check (channel in ('email', 'sms', 'push')),
      recipient text not null check (length(recipient) between 1 and 320),
      template text not null,
      locale text not null,
      topic text not null check (topic in ('orders', 'shipping', 'account_security', 'marketing', 'staff')),
      subject text not null,
      data jsonb not null,
      status text not null check (status in ('queued', 'sent', 'failed', 'suppressed', 'expired')),
      attempts integer not null default 0 check (attempts >= 0),
      next_attempt_at timestamptz not null default clock_timestamp(),
      provider_message_id text not null default '',
      last_error text not null default '' check (length(last_error) <= 2000),
      created_at timestamptz not null default clock_timestamp(),
      sent_at timestamptz,
      constraint message_once unique (event_id, recipient, channel),
      constraint message_sent_when_sent check ((status = 'sent') = (sent_at is not null))
    )`);
    // The sender's scan: due queued messages, oldest first.
    this.addSql("create index message_due on message (next_attempt_at) where status = 'queued'");
    this.addSql("create index message_by_user on message (user_id, id)");
    this.addSql("create index message_by_status on message (status, id)");

    this.addSql(`create table contact (
      user_id uuid primary key,
      -- Empty until identity's events name an address (a user may set preferences first).
      email text not null default '' check (length(email) <= 254),
      display_name text not null default '' check (length(display_name) <= 200),
      locale text not null default 'en' check (locale ~ '^[a-z]{2}$'),
      updated_at timestamptz not null default clock_timestamp()
    )`);

    this.addSql(`create table preference (
      user_id uuid not null,
      topic text not null check (topic in ('orders', 'shipping', 'account_security', 'marketing')),
      channel text not null check (channel in ('email', 'sms', 'push')),
      enabled boolean not null,
      updated_at timestamptz not null default clock_timestamp(),
      primary key (user_id, topic, channel),
      -- Security and transactional email cannot be turned off.
      constraint preference_required_stays_on check (enabled or channel <> 'email' or topic not in ('account_security', 'orders'))
    )`);

    // Who an order's later messages (cancellation, refund) go to, from its confirmation.
    this.addSql(`create table order_contact (
      order_id uuid primary key,
      user_id uuid,
      email text not null check (length(email) <= 254),
      phone text not null default '',
      created_at timestamptz not null default clock_timestamp()
    )`);

    // What the development SMS and push providers would have sent (readable by staff).
    this.addSql(`create table provider_message (
      id uuid primary key,
      channel text not null check (channel in ('sms', 'push')),
      recipient text not null,
      body text not null,
      created_at timestamptz not null default clock_timestamp()
    )`);
  }
}
