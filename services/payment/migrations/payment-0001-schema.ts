// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/** Payments, their operations, the test gateway's charges and the Stripe webhook events applied. */
export class PaymentSchema extends Migration {
  override name = "payment_0001_schema";
  override up(): void {
    // One payment per order. Money is bigint minor units; the CHECKs are the last word on what can
    // be captured and refunded, whatever the code above them does.
    this.addSql(`create table payment (
      id uuid primary key,
      order_id uuid not null unique,
      state text not null check (state in ('pending', 'authorized', 'captured', 'partially_refunded', 'refunded', 'voided', 'failed')),
      currency text not null check (currency ~ '^[A-Z]{3}$'),
      amount bigint not null check (amount >= 0 and amount <= 1000000000000),
      captured bigint not null default 0 check (captured >= 0),
      refunded bigint not null default 0 check (refunded >= 0),
      payment_method text not null default '' check (payment_method = '' or payment_method ~ '^pm_[A-Za-z0-9_]{1,250}$'),
      customer_id text not null default '' check (length(customer_id) <= 128),
      email text not null default '' check (length(email) <= 254),
      gateway text not null check (gateway in ('test', 'stripe')),
      gateway_reference text not null default '',
      failure_code text not null default '',
      failure_message text not null default '' check (length(failure_message) <= 1000),
      -- An instance calling the gateway for this payment holds it until then (a lease, so that a
      -- crashed instance's hold lapses); others wait. No transaction stays open across the call.
      busy_until timestamptz,
      created_at timestamptz not null default clock_timestamp(),
      updated_at timestamptz not null default clock_timestamp(),
      constraint payment_captured_within_amount check (captured <= amount),
      constraint payment_refunded_within_captured check (refunded <= captured),
      constraint payment_captured_states check ((captured > 0) = (state in ('captured', 'partially_refunded', 'refunded'))),
      constraint payment_refunded_states check (
        (state = 'refunded') = (refunded > 0 and refunded = captured) and
        (state = 'partially_refunded') = (refunded > 0 and refunded < captured)),
      constraint payment_failure_only_when_failed check ((state = 'failed') = (failure_code <> ''))
    )`);
    this.addSql("create index payment_by_state on payment (state, id desc)");

    // The history: one row per operation; a repeated operation (same kind and key) is found here,
    // never redone.
    this.addSql(`create table payment_operation (
      id uuid primary key,
      payment_id uuid not null references payment (id),
      kind text not null check (kind in ('authorize', 'capture', 'void', 'refund')),
      idempotency_key text not null check (length(idempotency_key) between 1 and 300),
      amount bigint not null check (amount >= 0),
      currency text not null check (currency ~ '^[A-Z]{3}$'),
      succeeded boolean not null,
      gateway_reference text not null default '',
      failure_code text not null default '',
      refund_id text check (length(refund_id) between 1 and 128),
      reason text not null default '' check (length(reason) <= 500),
      created_at timestamptz not null default clock_timestamp(),
      constraint payment_operation_once unique (payment_id, kind, idempotency_key),
      constraint payment_operation_refund_id check ((kind = 'refund') = (refund_id is not null))
    )`);
    this.addSql("create unique index payment_operation_refund on payment_operation (payment_id, refund_id) where kind = 'refund'");

    // The built-in test gateway keeps its charges here, keyed by idempotency key, so a restarted
    // service gives the first answer to a repeated key. It stands for an outside system: nothing
    // in the payment tables refers to it.
    this.addSql(`create table test_gateway_charge (
      idempotency_key text primary key,
      operation text not null check (operation in ('authorize', 'capture', 'void', 'refund')),
      outcome text not null check (outcome in ('authorized', 'declined', 'captured', 'voided', 'refunded')),
      reference text not null,
      charge text,
      amount bigint not null default 0 check (amount >= 0),
      currency text not null default '',
      decline_code text not null default '',
      message text not null default '',
      voided boolean not null default false,
      created_at timestamptz not null default clock_timestamp()
    )`);
    this.addSql("create index test_gateway_charge_reference on test_gateway_charge (reference)");
    this.addSql("create index test_gateway_charge_charge on test_gateway_charge (charge)");

    // Stripe events applied, by Stripe's event id: a redelivered webhook applies once.
    this.addSql(`create table stripe_webhook_event (
      event_id text primary key check (length(event_id) between 1 and 255),
      type text not null,
      received_at timestamptz not null default clock_timestamp()
    )`);
  }
}
