// ShippingService RPCs: authorise (admins manage zones and methods; services and admins quote),
// validate (every violation at once, nothing changed), call the stores and shape their results.
import { ADMIN_ROLE, checkId, checkUpdateMask, isUuid, readPage, requireRole, requireServiceOrRole, type Database } from "@bazaar/platform";
import type { ServiceImpl } from "@connectrpc/connect";
import type { ShippingService, ShippingZone } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import { methodMessage, optionMessage, quoteMessage, zoneMessage } from "./messages.ts";
import { createMethod, listMethods, METHODS_ORDER, updateMethod, type MethodPatch } from "./methods.ts";
import type { Quotes } from "./quotes.ts";
import { shipmentHandlers } from "./shipment-handlers.ts";
import type { Shipments } from "./shipments.ts";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  checkAreas,
  checkCode,
  checkDestination,
  checkEstimate,
  checkLines,
  checkMethodText,
  checkRates,
  checkSubtotal,
  checkZoneName,
  PAGE_SIZE,
  violations,
  type Violations,
} from "./validation.ts";
import { createZone, deleteZone, getZone, listZones, updateZone, ZONES_ORDER } from "./zones.ts";

// Zones and methods are managed by admins.
const requireAdmin = () => void requireRole(ADMIN_ROLE);
const requireServiceOrAdmin = () => void requireServiceOrRole(ADMIN_ROLE, "quotes are made by services (the cart and order) and admins");

const ZONE_PATHS = ["name", "areas"] as const;
const METHOD_PATHS = ["name", "carrier", "service_level", "min_days", "max_days", "active", "rates"] as const;

/** The checkout facts a quote is made for or checked against. */
function checkParcel(v: Violations, request: { destination?: Parameters<typeof checkDestination>[2]; lines: Parameters<typeof checkLines>[2]; subtotal?: Parameters<typeof checkSubtotal>[2] }) {
  const destination = checkDestination(v, "destination", request.destination);
  const lines = checkLines(v, "lines", request.lines);
  const subtotal = checkSubtotal(v, "subtotal", request.subtotal);
  v.throwIfAny();
  return { destination: destination!, lines, currency: subtotal!.currency, subtotal: subtotal!.amount };
}

export function shippingHandlers(database: Database, quotes: Quotes, shipments: Shipments): ServiceImpl<typeof ShippingService> {
  return {
    ...shipmentHandlers(shipments),
    async createShippingZone(request) {
      requireAdmin();
      const v = violations();
      const zone: Partial<ShippingZone> = request.zone ?? {};
      checkZoneName(v, "zone.name", zone.name ?? "");
      const areas = checkAreas(v, "zone.areas", zone.areas ?? []);
      v.throwIfAny();
      return { zone: zoneMessage(await createZone(database, { name: zone.name!.trim(), areas })) };
    },

    async getShippingZone(request) {
      requireAdmin();
      const v = violations();
      const id = checkId(v, "id", request.id);
      v.throwIfAny();
      return { zone: zoneMessage(await getZone(database, id)) };
    },

    async listShippingZones(request) {
      requireAdmin();
      const v = violations();
      const page = readPage(v, request, PAGE_SIZE, { rpc: "ListShippingZones" }, ZONES_ORDER);
      v.throwIfAny();
      const { rows, nextPageToken } = await listZones(database, page);
      return { zones: rows.map(zoneMessage), nextPageToken };
    },

    async updateShippingZone(request) {
      requireAdmin();
      const v = violations();
      const zone: Partial<ShippingZone> = request.zone ?? {};
      const id = checkId(v, "zone.id", zone.id ?? "");
      const paths = new Set(checkUpdateMask(v, request.updateMask?.paths ?? [], ZONE_PATHS));
      if (paths.has("name")) checkZoneName(v, "zone.name", zone.name ?? "");
      const areas = paths.has("areas") ? checkAreas(v, "zone.areas", zone.areas ?? []) : undefined;
      v.throwIfAny();
      const updated = await updateZone(database, { id, etag: zone.etag ?? "", ...(paths.has("name") ? { name: zone.name!.trim() } : {}), ...(areas ? { areas } : {}) });
      return { zone: zoneMessage(updated) };
    },

    async deleteShippingZone(request) {
      requireAdmin();
      const v = violations();
      const id = checkId(v, "id", request.id);
      v.throwIfAny();
      await deleteZone(database, { id, etag: request.etag });
      return {};
    },

    async createShippingMethod(request) {
      requireAdmin();
      const v = violations();
      const m = request.method;
      if (!v.check(m, "method", "is required")) v.throwIfAny();
      const zoneId = checkId(v, "method.zone_id", m!.zoneId);
      checkCode(v, "method.code", m!.code);
      checkMethodText(v, "method", m!);
      checkEstimate(v, "method", m!.minDays, m!.maxDays);
      const rates = checkRates(v, "method.rates", m!.rates);
      v.throwIfAny();
      const created = await createMethod(database, {
        zoneId,
        code: m!.code,
        name: m!.name.trim(),
        carrier: m!.carrier,
        serviceLevel: m!.serviceLevel,
        minDays: m!.minDays,
        maxDays: m!.maxDays,
        active: m!.active,
        rates,
      });
      return { method: methodMessage(created) };
    },

    async listShippingMethods(request) {
      requireAdmin();
      const v = violations();
      const zoneId = request.zoneId === "" ? undefined : checkId(v, "zone_id", request.zoneId);
      const page = readPage(v, request, PAGE_SIZE, { rpc: "ListShippingMethods", zoneId }, METHODS_ORDER);
      v.throwIfAny();
      const { rows, nextPageToken } = await listMethods(database, page, zoneId);
      return { methods: rows.map(methodMessage), nextPageToken };
    },

    async updateShippingMethod(request) {
      requireAdmin();
      const v = violations();
      const m = request.method;
      if (!v.check(m, "method", "is required")) v.throwIfAny();
      const id = checkId(v, "method.id", m!.id);
      const paths = new Set(checkUpdateMask(v, request.updateMask?.paths ?? [], METHOD_PATHS));
      checkMethodText(v, "method", m!, paths);
      // The estimate is checked whole when either end changes (against the stored other end below).
      const patch: MethodPatch = {};
      if (paths.has("name")) patch.name = m!.name.trim();
      if (paths.has("carrier")) patch.carrier = m!.carrier;
      if (paths.has("service_level")) patch.serviceLevel = m!.serviceLevel;
      if (paths.has("min_days")) patch.minDays = m!.minDays;
      if (paths.has("max_days")) patch.maxDays = m!.maxDays;
      if (paths.has("active")) patch.active = m!.active;
      if (paths.has("rates")) patch.rates = checkRates(v, "method.rates", m!.rates);
      if (paths.has("min_days") && paths.has("max_days")) checkEstimate(v, "method", m!.minDays, m!.maxDays);
      else if (paths.has("min_days")) v.check(m!.minDays >= 0 && m!.minDays <= 365, "method.min_days", "must be 0–365");
      else if (paths.has("max_days")) v.check(m!.maxDays >= 0 && m!.maxDays <= 365, "method.max_days", "must be 0–365");
      v.throwIfAny();
      return { method: methodMessage(await updateMethod(database, { id, etag: m!.etag, patch })) };
    },

    async quoteShipping(request) {
      requireServiceOrAdmin();
      const v = violations();
      return { quote: quoteMessage(await quotes.quote(checkParcel(v, request))) };
    },

    async getShippingQuote(request) {
      requireServiceOrAdmin();
      const v = violations();
      const id = checkId(v, "id", request.id);
      v.throwIfAny();
      return { quote: quoteMessage(await quotes.get(id)) };
    },

    async checkShippingQuote(request) {
      requireServiceOrAdmin();
      const v = violations();
      const quoteId = request.quoteId.toLowerCase();
      v.check(isUuid(quoteId), "quote_id", "must be a shipping quote's id (a UUID)");
      v.check(request.optionId !== "", "option_id", "is required");
      const parcel = checkParcel(v, request);
      const { option, expiresAt } = await quotes.check({ ...parcel, quoteId, optionId: request.optionId });
      return { option: optionMessage(option, parcel.currency), expireTime: timestampFromDate(expiresAt) };
    },
  };
}
