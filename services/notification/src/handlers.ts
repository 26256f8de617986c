// NotificationService RPCs: authorise (the user for their own, admins for everything), validate (every
// violation at once), read or change, and shape the results as messages.
import {
  ADMIN_ROLE,
  InvalidArgumentError,
  isUuid,
  keysetPage,
  NotFoundError,
  readPage,
  requireRole,
  requireUser,
  typedQueries,
  UnauthenticatedError,
  violations,
  type Database,
  type Keyset,
  type PageSizeRule,
} from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  NotificationChannel,
  NotificationSchema,
  NotificationService,
  NotificationStatus,
  NotificationTopic,
  PreferenceSchema,
  ProviderMessageSchema,
  type Notification,
} from "@bazaar/contracts/bazaar/notification/v1/notification_pb";
import { listLog, LOG_ORDER, type LogRow } from "./delivery-log.ts";
import { notificationEntities } from "./entities.ts";
import type { Links } from "./links.ts";
import type { MessageStatus } from "./messages.ts";
import { preferencesOf, setLocale, setPreferences, unsubscribe, type PreferenceView } from "./preferences.ts";
import { LOCALES, type Templates } from "./templates.ts";
import { isRequired, type Channel, type UserTopic } from "./topics.ts";

const PAGE_SIZE: PageSizeRule = { default: 20, max: 100 };

export const channels: Record<Channel, NotificationChannel> = {
  email: NotificationChannel.EMAIL,
  sms: NotificationChannel.SMS,
  push: NotificationChannel.PUSH,
};
const statuses: Record<MessageStatus, NotificationStatus> = {
  queued: NotificationStatus.QUEUED,
  sent: NotificationStatus.SENT,
  failed: NotificationStatus.FAILED,
  suppressed: NotificationStatus.SUPPRESSED,
  expired: NotificationStatus.EXPIRED,
};
const topics: Record<UserTopic, NotificationTopic> = {
  orders: NotificationTopic.ORDERS,
  shipping: NotificationTopic.SHIPPING,
  account_security: NotificationTopic.ACCOUNT_SECURITY,
  marketing: NotificationTopic.MARKETING,
};
const topicNames = new Map<NotificationTopic, UserTopic>(Object.entries(topics).map(([name, topic]) => [topic, name as UserTopic]));
const channelNames = new Map<NotificationChannel, Channel>(Object.entries(channels).map(([name, channel]) => [channel, name as Channel]));
const statusNames = new Map<NotificationStatus, MessageStatus>(Object.entries(statuses).map(([name, status]) => [status, name as MessageStatus]));

const notificationMessage = (row: LogRow): Notification =>
  create(NotificationSchema, {
    id: row.id,
    eventId: row.event_id,
    userId: row.user_id ?? "",
    channel: channels[row.channel as Channel],
    recipient: row.recipient,
    template: row.template,
    locale: row.locale,
    subject: row.subject,
    status: statuses[row.status as MessageStatus],
    attempts: row.attempts,
    providerMessageId: row.provider_message_id,
    lastError: row.last_error,
    createTime: timestampFromDate(row.created_at),
    ...(row.sent_at ? { sentTime: timestampFromDate(row.sent_at) } : {}),
  });

const preferenceMessage = (view: PreferenceView) =>
  create(PreferenceSchema, { topic: topics[view.topic], channel: channels[view.channel], enabled: view.enabled, changeable: view.changeable });

const PROVIDER_ORDER: Keyset = { columns: ["id"], direction: "desc", valid: ([id]) => isUuid(id!) };

export interface HandlerDeps {
  database: Database;
  templates: Templates;
  links: Links;
}

export function notificationHandlers(deps: HandlerDeps): ServiceImpl<typeof NotificationService> {
  const { database, templates, links } = deps;
  return {
    async listMyNotifications(request) {
      const principal = requireUser();
      const v = violations();
      const page = readPage(v, request, PAGE_SIZE, { rpc: "ListMyNotifications" }, LOG_ORDER);
      v.throwIfAny();
      const { rows, nextPageToken } = await listLog(database, page, { userId: principal.subject });
      return { notifications: rows.map(notificationMessage), nextPageToken };
    },

    async listNotifications(request) {
      requireRole(ADMIN_ROLE);
      const v = violations();
      const status = request.status === NotificationStatus.UNSPECIFIED ? undefined : statusNames.get(request.status);
      v.check(request.status === NotificationStatus.UNSPECIFIED || status !== undefined, "status", "is not a known status");
      const page = readPage(v, request, PAGE_SIZE, { rpc: "ListNotifications", status }, LOG_ORDER);
      v.throwIfAny();
      const { rows, nextPageToken } = await listLog(database, page, status ? { status } : {});
      return { notifications: rows.map(notificationMessage), nextPageToken };
    },

    async getMyPreferences() {
      const principal = requireUser();
      const { preferences, locale } = await preferencesOf(database.em(), principal.subject);
      return { preferences: preferences.map(preferenceMessage), locale };
    },

    async updateMyPreferences(request) {
      const principal = requireUser();
      const v = violations();
      const changes: { topic: UserTopic; channel: Channel; enabled: boolean }[] = [];
      request.preferences.forEach((preference, index) => {
        const topic = topicNames.get(preference.topic);
        const channel = channelNames.get(preference.channel);
        const field = `preferences[${index}]`;
        v.check(topic !== undefined, `${field}.topic`, "must be a known topic");
        v.check(channel !== undefined, `${field}.channel`, "must be a known channel");
        if (topic && channel && isRequired(topic, channel)) v.check(preference.enabled, `${field}.enabled`, `${topic} email cannot be turned off`);
        if (topic && channel) changes.push({ topic, channel, enabled: preference.enabled });
      });
      v.check(request.preferences.length <= 50, "preferences", "at most 50 at once");
      if (request.locale) v.check((LOCALES as readonly string[]).includes(request.locale), "locale", `must be one of ${LOCALES.join(", ")}`);
      v.throwIfAny();
      const result = await database.transaction(async (em) => {
        await setPreferences(em, principal.subject, changes);
        if (request.locale) await setLocale(em, principal.subject, request.locale);
        return preferencesOf(em, principal.subject);
      });
      return { preferences: result.preferences.map(preferenceMessage), locale: result.locale };
    },

    async unsubscribe(request) {
      const v = violations();
      v.check(request.token.length > 0, "token", "is required");
      v.check(request.token.length <= 1000, "token", "is too long");
      v.throwIfAny();
      const claim = await unsubscribe(database, links, request.token);
      if (!claim) throw new UnauthenticatedError("token: is invalid or expired", { reason: "INVALID_UNSUBSCRIBE_TOKEN" });
      return { topic: topics[claim.topic], channel: channels[claim.channel] };
    },

    async listTemplates() {
      requireRole(ADMIN_ROLE);
      return { templates: templates.names.map((name) => ({ name, locales: templates.locales(name) })) };
    },

    async previewTemplate(request) {
      requireRole(ADMIN_ROLE);
      const v = violations();
      v.check(request.template.length > 0, "template", "is required");
      if (request.locale) v.check((LOCALES as readonly string[]).includes(request.locale) || /^[a-z]{2}$/.test(request.locale), "locale", "must be a two-letter language code");
      let overlay: Record<string, unknown> = {};
      if (request.dataJson) {
        try {
          const parsed: unknown = JSON.parse(request.dataJson);
          if (v.check(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed), "data_json", "must be a JSON object")) overlay = parsed as Record<string, unknown>;
        } catch {
          v.check(false, "data_json", "must be JSON");
        }
      }
      v.throwIfAny();
      if (!templates.names.includes(request.template)) throw new NotFoundError(`template ${request.template} does not exist`);
      const locale = templates.localeFor(request.template, request.locale || "en");
      try {
        const rendered = await templates.render(request.template, locale, { ...templates.sample(request.template), ...overlay });
        return { locale, ...rendered };
      } catch (error) {
        throw new InvalidArgumentError({ field: "data_json", description: `the template cannot render it: ${(error as Error).message}` });
      }
    },

    async listProviderMessages(request) {
      requireRole(ADMIN_ROLE);
      const v = violations();
      const page = readPage(v, request, PAGE_SIZE, { rpc: "ListProviderMessages" }, PROVIDER_ORDER);
      v.throwIfAny();
      const select = typedQueries(database.em(), notificationEntities).selectFrom("provider_message").selectAll();
      const { rows, nextPageToken } = await keysetPage(select, page);
      return {
        messages: rows.map((row) =>
          create(ProviderMessageSchema, { id: row.id, channel: channels[row.channel as Channel], recipient: row.recipient, body: row.body, createTime: timestampFromDate(row.created_at) }),
        ),
        nextPageToken,
      };
    },
  };
}
