// The tables of identity as MikroORM entities (defineEntity: tsx emits no decorator metadata). The
// schema itself, with its constraints, is in migrations/; hot paths use SQL through the same
// EntityManager so each step is one statement with its guard in the WHERE clause.
import { defineEntity, p } from "@mikro-orm/core";
import type { PublicJwk } from "./signing-keys.ts";

export const User = defineEntity({
  name: "User",
  tableName: "users",
  properties: {
    id: p.uuid().primary(),
    email: p.text().nullable(),
    passwordHash: p.text().nullable(),
    displayName: p.text().defaultRaw("''::text"),
    phone: p.text().defaultRaw("''::text"),
    emailVerifiedAt: p.datetime().nullable(),
    roles: p.array().defaultRaw("ARRAY['customer'::text]"),
    disabledAt: p.datetime().nullable(),
    mfaSecret: p.text().nullable(),
    mfaPendingSecret: p.text().nullable(),
    mfaEnabledAt: p.datetime().nullable(),
    mfaLastStep: p.bigint("number").defaultRaw("0"),
    version: p.integer().defaultRaw("1"),
    createdAt: p.datetime().defaultRaw("now()"),
    updatedAt: p.datetime().defaultRaw("now()"),
    deletedAt: p.datetime().nullable(),
  },
});

export const EmailToken = defineEntity({
  name: "EmailToken",
  tableName: "email_tokens",
  indexes: [{ name: "email_tokens_user", properties: ["userId", "purpose"] }],
  properties: {
    tokenHash: p.text().primary(),
    userId: p.uuid(),
    purpose: p.text(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw("now()"),
  },
});

export const Session = defineEntity({
  name: "Session",
  tableName: "sessions",
  indexes: [{ name: "sessions_user", expression: "create index sessions_user on sessions (user_id, created_at desc)" }],
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid(),
    userAgent: p.text().defaultRaw("''::text"),
    ipAddress: p.text().defaultRaw("''::text"),
    createdAt: p.datetime().defaultRaw("now()"),
    lastUsedAt: p.datetime().defaultRaw("now()"),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokedReason: p.text().nullable(),
  },
});

export const RefreshToken = defineEntity({
  name: "RefreshToken",
  tableName: "refresh_tokens",
  indexes: [{ name: "refresh_tokens_session", properties: ["sessionId"] }],
  properties: {
    tokenHash: p.text().primary(),
    sessionId: p.uuid(),
    createdAt: p.datetime().defaultRaw("now()"),
    rotatedAt: p.datetime().nullable(),
  },
});

export const SigningKey = defineEntity({
  name: "SigningKey",
  tableName: "signing_keys",
  properties: {
    kid: p.text().primary(),
    alg: p.text(),
    publicJwk: p.json<PublicJwk>(),
    privateKeySealed: p.text(),
    createdAt: p.datetime().defaultRaw("now()"),
    retiredAt: p.datetime().nullable(),
    publishUntil: p.datetime().nullable(),
  },
});

export const RecoveryCode = defineEntity({
  name: "RecoveryCode",
  tableName: "recovery_codes",
  properties: {
    userId: p.uuid().primary(),
    codeHash: p.text().primary(),
    usedAt: p.datetime().nullable(),
  },
});

export const MfaChallenge = defineEntity({
  name: "MfaChallenge",
  tableName: "mfa_challenges",
  properties: {
    tokenHash: p.text().primary(),
    userId: p.uuid(),
    sessionUserAgent: p.text().defaultRaw("''::text"),
    sessionIpAddress: p.text().defaultRaw("''::text"),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    failures: p.integer().defaultRaw("0"),
  },
});

export const LoginFailure = defineEntity({
  name: "LoginFailure",
  tableName: "login_failures",
  properties: {
    key: p.text().primary(),
    failures: p.integer(),
    lastFailureAt: p.datetime(),
  },
});

/** A password reset asked for, not yet handled (see password-resets.ts). */
export const PasswordResetRequest = defineEntity({
  name: "PasswordResetRequest",
  tableName: "password_reset_requests",
  properties: {
    id: p.uuid().primary(),
    email: p.text(),
    requestedAt: p.datetime().defaultRaw("now()"),
  },
});

export const Address = defineEntity({
  name: "Address",
  tableName: "addresses",
  indexes: [{ name: "addresses_user", properties: ["userId", "createdAt"] }],
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid(),
    recipientName: p.text(),
    line1: p.text(),
    line2: p.text().defaultRaw("''::text"),
    city: p.text(),
    region: p.text().defaultRaw("''::text"),
    postalCode: p.text(),
    countryCode: p.text(),
    phone: p.text().defaultRaw("''::text"),
    defaultShipping: p.boolean().defaultRaw("false"),
    defaultBilling: p.boolean().defaultRaw("false"),
    version: p.integer().defaultRaw("1"),
    createdAt: p.datetime().defaultRaw("now()"),
    updatedAt: p.datetime().defaultRaw("now()"),
  },
});

export const identityEntities = [User, EmailToken, Session, RefreshToken, SigningKey, RecoveryCode, MfaChallenge, LoginFailure, PasswordResetRequest, Address];
