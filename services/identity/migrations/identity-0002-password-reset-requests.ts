// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/**
 * Password reset requests wait here: RequestPasswordReset only queues the address (the same work
 * whether or not it has an account), and the account is looked up after the answer.
 */
export class IdentityPasswordResetRequests extends Migration {
  override name = "identity_0002_password_reset_requests";
  override up(): void {
    this.addSql(`
      create table password_reset_requests (
        id uuid primary key,
        email text not null check (length(email) <= 254),
        requested_at timestamptz not null default now()
      )`);
  }
}
