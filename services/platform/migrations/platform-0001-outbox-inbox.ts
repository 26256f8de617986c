import { Migration } from "@mikro-orm/migrations";

// The platform's own tables, applied to every service database that uses events. Frozen history: a
// later change is a new migration, never an edit here.
export class PlatformOutboxInbox extends Migration {
  override name = "platform_0001_outbox_inbox";

  override up(): void {
    // Events waiting to be published (sent_at null) and, for a while, those already published.
    // The id orders publication; event_id is the JetStream Nats-Msg-Id.
    this.addSql(`create table platform_outbox (
      id bigint generated always as identity primary key,
      event_id uuid not null unique,
      subject text not null,
      type_name text not null,
      payload bytea not null,
      headers jsonb not null default '{}'::jsonb,
      created_at timestamptz not null default clock_timestamp(),
      sent_at timestamptz
    )`);
    // The relay only ever scans unsent rows, in id order; this index stays as small as the backlog.
    this.addSql(`create index platform_outbox_unsent on platform_outbox (id) where sent_at is null`);
    this.addSql(`create index platform_outbox_sent_at on platform_outbox (sent_at) where sent_at is not null`);
    // Wakes listening relays when a transaction that wrote events commits (notifications are
    // delivered on commit and dropped on rollback; one per statement is enough).
    this.addSql(`create function platform_outbox_notify() returns trigger language plpgsql as $$
      begin
        perform pg_notify('platform_outbox', '');
        return null;
      end
    $$`);
    this.addSql(`create trigger platform_outbox_notify after insert on platform_outbox
      for each statement execute function platform_outbox_notify()`);
    // Messages a consumer has applied: the primary key makes a redelivery's insert conflict, so its
    // effects commit at most once per consumer.
    this.addSql(`create table platform_inbox (
      consumer text not null,
      event_id text not null,
      subject text not null,
      stream_sequence bigint,
      processed_at timestamptz not null default clock_timestamp(),
      primary key (consumer, event_id)
    )`);
    // For pruning rows older than any redelivery could be.
    this.addSql(`create index platform_inbox_processed_at on platform_inbox (processed_at)`);
  }

  override down(): void {
    this.addSql(`drop table if exists platform_inbox`);
    this.addSql(`drop trigger if exists platform_outbox_notify on platform_outbox`);
    this.addSql(`drop function if exists platform_outbox_notify()`);
    this.addSql(`drop table if exists platform_outbox`);
  }
}
