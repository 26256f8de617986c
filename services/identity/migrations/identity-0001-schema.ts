// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

export class IdentitySchema extends Migration {
  override name = "identity_0001_schema";
  override up(): void {
    this.addSql(`
      create table users (
        id uuid primary key,
        email text,
        password_hash text,
        display_name text not null default '',
        phone text not null default '',
        email_verified_at timestamptz,
        roles text[] not null default array['customer'],
        disabled_at timestamptz,
        mfa_secret text,
        mfa_pending_secret text,
        mfa_enabled_at timestamptz,
        mfa_last_step bigint not null default 0,
        version integer not null default 1,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        deleted_at timestamptz,
        constraint users_email_normalised check (email = lower(btrim(email)) and length(email) between 3 and 254),
        constraint users_roles_known check (roles <@ array['customer', 'admin']::text[] and cardinality(roles) >= 1),
        constraint users_deleted_anonymous check (deleted_at is null or (email is null and password_hash is null))
      )`);
    this.addSql("create unique index users_email_unique on users (email) where email is not null");

    this.addSql(`
      create table email_tokens (
        token_hash text primary key,
        user_id uuid not null references users (id) on delete cascade,
        purpose text not null check (purpose in ('verify_email', 'reset_password')),
        expires_at timestamptz not null,
        used_at timestamptz,
        created_at timestamptz not null default now()
      )`);
    this.addSql("create index email_tokens_user on email_tokens (user_id, purpose)");

    this.addSql(`
      create table sessions (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        user_agent text not null default '' check (length(user_agent) <= 256),
        ip_address text not null default '' check (length(ip_address) <= 64),
        created_at timestamptz not null default now(),
        last_used_at timestamptz not null default now(),
        expires_at timestamptz not null,
        revoked_at timestamptz,
        revoked_reason text
      )`);
    this.addSql("create index sessions_user on sessions (user_id, created_at desc)");

    this.addSql(`
      create table refresh_tokens (
        token_hash text primary key,
        session_id uuid not null references sessions (id) on delete cascade,
        created_at timestamptz not null default now(),
        rotated_at timestamptz
      )`);
    this.addSql("create index refresh_tokens_session on refresh_tokens (session_id)");

    this.addSql(`
      create table signing_keys (
        kid text primary key,
        alg text not null check (alg in ('EdDSA', 'ES256')),
        public_jwk jsonb not null,
        private_key_sealed text not null,
        created_at timestamptz not null default now(),
        retired_at timestamptz,
        publish_until timestamptz,
        constraint signing_keys_retired_published check ((retired_at is null) = (publish_until is null))
      )`);
    // At most one key signs at a time.
    this.addSql("create unique index signing_keys_one_active on signing_keys ((true)) where retired_at is null");

    this.addSql(`
      create table recovery_codes (
        user_id uuid not null references users (id) on delete cascade,
        code_hash text not null,
        used_at timestamptz,
        primary key (user_id, code_hash)
      )`);

    this.addSql(`
      create table mfa_challenges (
        token_hash text primary key,
        user_id uuid not null references users (id) on delete cascade,
        session_user_agent text not null default '',
        session_ip_address text not null default '',
        expires_at timestamptz not null,
        used_at timestamptz,
        failures integer not null default 0 check (failures >= 0)
      )`);

    this.addSql(`
      create table login_failures (
        key text primary key check (length(key) <= 300),
        failures integer not null check (failures > 0),
        last_failure_at timestamptz not null
      )`);

    this.addSql(`
      create table addresses (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        recipient_name text not null check (length(recipient_name) between 1 and 100),
        line1 text not null check (length(line1) between 1 and 200),
        line2 text not null default '' check (length(line2) <= 200),
        city text not null check (length(city) between 1 and 100),
        region text not null default '' check (length(region) <= 100),
        postal_code text not null check (length(postal_code) between 1 and 20),
        country_code text not null check (country_code ~ '^[A-Z]{2}$'),
        phone text not null default '' check (length(phone) <= 16),
        default_shipping boolean not null default false,
        default_billing boolean not null default false,
        version integer not null default 1,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    this.addSql("create index addresses_user on addresses (user_id, created_at)");
    this.addSql("create unique index addresses_one_default_shipping on addresses (user_id) where default_shipping");
    this.addSql("create unique index addresses_one_default_billing on addresses (user_id) where default_billing");
  }
}
