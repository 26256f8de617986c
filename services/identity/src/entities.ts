// The tables of identity as MikroORM entities (defineEntity: tsx emits no decorator metadata). The
// schema itself, with its constraints, is in migrations/; hot paths use SQL through the same
// EntityManager so each step is one statement with its guard in the WHERE clause.
import { defineEntity, p } from "@mikro-orm/core";

export const User = defineEntity({
  name: "User",
  tableName: "users",
  properties: {
    id: p.uuid().primary(),
    email: p.text().nullable(),
    passwordHash: p.text().nullable(),
    displayName: p.text(),
    phone: p.text(),
    emailVerifiedAt: p.datetime().nullable(),
    roles: p.array(),
    disabledAt: p.datetime().nullable(),
    mfaSecret: p.text().nullable(),
    mfaPendingSecret: p.text().nullable(),
    mfaEnabledAt: p.datetime().nullable(),
    mfaLastStep: p.bigint("number"),
    version: p.integer(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    deletedAt: p.datetime().nullable(),
  },
});

export const EmailToken = defineEntity({
  name: "EmailToken",
  tableName: "email_tokens",
  properties: {
    tokenHash: p.text().primary(),
    userId: p.uuid(),
    purpose: p.text(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  },
});

export const Session = defineEntity({
  name: "Session",
  tableName: "sessions",
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid(),
    userAgent: p.text(),
    ipAddress: p.text(),
    createdAt: p.datetime(),
    lastUsedAt: p.datetime(),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokedReason: p.text().nullable(),
  },
});

export const RefreshToken = defineEntity({
  name: "RefreshToken",
  tableName: "refresh_tokens",
  properties: {
    tokenHash: p.text().primary(),
    sessionId: p.uuid(),
    createdAt: p.datetime(),
    rotatedAt: p.datetime().nullable(),
  },
});

export const SigningKey = defineEntity({
  name: "SigningKey",
  tableName: "signing_keys",
  properties: {
    kid: p.text().primary(),
    alg: p.text(),
    publicJwk: p.json<Record<string, string>>(),
    privateKeySealed: p.text(),
    createdAt: p.datetime(),
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
    sessionUserAgent: p.text(),
    sessionIpAddress: p.text(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    failures: p.integer(),
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

export const Address = defineEntity({
  name: "Address",
  tableName: "addresses",
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid(),
    recipientName: p.text(),
    line1: p.text(),
    line2: p.text(),
    city: p.text(),
    region: p.text(),
    postalCode: p.text(),
    countryCode: p.text(),
    phone: p.text(),
    defaultShipping: p.boolean(),
    defaultBilling: p.boolean(),
    version: p.integer(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

export const identityEntities = [User, EmailToken, Session, RefreshToken, SigningKey, RecoveryCode, MfaChallenge, LoginFailure, Address];
