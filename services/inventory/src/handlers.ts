// InventoryService RPCs: validate (every violation at once, nothing changed), authorise, then call
// the domain functions and shape their results as messages.
import {
  ADMIN_ROLE,
  checkSku,
  checkUuid,
  PermissionDeniedError,
  readPage,
  requireRole,
  requireServiceOrRole,
  type Database,
} from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  InventoryService,
  MovementReason,
  ReservationSchema,
  ReservationState,
  SkuStockSchema,
  StockLevelSchema,
  StockMovementSchema,
  type Reservation,
  type SkuStock,
  type StockLevel,
  type StockMovement,
} from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { commit, getReservation, release, reserve, restock, type Line, type ReservationView } from "./reservations.ts";
import {
  adjust,
  batchTotals,
  LEVELS_ORDER,
  listLevels,
  listMovements,
  MOVEMENTS_ORDER,
  receive,
  setLowStockThreshold,
  stockOf,
  type LevelView,
  type MovementReason as Reason,
  type MovementView,
  type SkuView,
} from "./stock.ts";
import {
  checkLocation,
  checkNote,
  checkQuantity,
  checkReference,
  checkTtl,
  MAX_BATCH_SKUS,
  MAX_LINE_QUANTITY,
  MAX_LINES,
  MAX_STOCK_QUANTITY,
  PAGE_SIZE,
  violations,
} from "./validation.ts";

/** Reservations are made by services (checkout, order sagas) and by staff. */
const requireServiceOrAdmin = () => requireServiceOrRole(ADMIN_ROLE, "reservations are made by services and admins");

const states: Record<ReservationView["state"], ReservationState> = {
  active: ReservationState.ACTIVE,
  committed: ReservationState.COMMITTED,
  released: ReservationState.RELEASED,
  expired: ReservationState.EXPIRED,
  restocked: ReservationState.RESTOCKED,
};

const reasonsToWire: Record<Reason, MovementReason> = {
  received: MovementReason.RECEIVED,
  sold: MovementReason.SOLD,
  count_correction: MovementReason.COUNT_CORRECTION,
  damaged: MovementReason.DAMAGED,
  lost: MovementReason.LOST,
  returned: MovementReason.RETURNED,
  other: MovementReason.OTHER,
};

/** Reasons an admin may give to AdjustStock (receipts and sales have RPCs of their own). */
const adjustReasons = new Map<MovementReason, Reason>([
  [MovementReason.COUNT_CORRECTION, "count_correction"],
  [MovementReason.DAMAGED, "damaged"],
  [MovementReason.LOST, "lost"],
  [MovementReason.RETURNED, "returned"],
  [MovementReason.OTHER, "other"],
]);

const reservationMessage = (r: ReservationView): Reservation =>
  create(ReservationSchema, {
    id: r.id,
    reference: r.reference,
    state: states[r.state],
    lines: r.lines.map((l) => ({ sku: l.sku, location: l.location, quantity: BigInt(l.quantity) })),
    createTime: timestampFromDate(r.createdAt),
    expireTime: timestampFromDate(r.expiresAt),
    ...(r.closedAt ? { closeTime: timestampFromDate(r.closedAt) } : {}),
  });

const levelMessage = (l: LevelView): StockLevel =>
  create(StockLevelSchema, {
    sku: l.sku,
    location: l.location,
    onHand: BigInt(l.onHand),
    reserved: BigInt(l.reserved),
    available: BigInt(l.onHand - l.reserved),
    updateTime: timestampFromDate(l.updatedAt),
  });

const skuMessage = (s: SkuView): SkuStock =>
  create(SkuStockSchema, {
    sku: s.sku,
    known: s.known,
    onHand: BigInt(s.onHand),
    reserved: BigInt(s.reserved),
    available: BigInt(s.available),
    lowStockThreshold: BigInt(s.lowStockThreshold),
  });

const movementMessage = (m: MovementView): StockMovement =>
  create(StockMovementSchema, {
    id: m.id,
    sku: m.sku,
    location: m.location,
    delta: BigInt(m.delta),
    reason: reasonsToWire[m.reason],
    note: m.note,
    actor: m.actor,
    onHandAfter: BigInt(m.onHandAfter),
    createTime: timestampFromDate(m.createdAt),
  });

export function inventoryHandlers(database: Database): ServiceImpl<typeof InventoryService> {
  return {
    async getStockLevel(request) {
      const v = violations();
      checkSku(v, "sku", request.sku);
      v.throwIfAny();
      const { stock, levels } = await stockOf(database, request.sku);
      return { stock: skuMessage(stock), levels: levels.map(levelMessage) };
    },

    async batchGetStockLevels(request) {
      const v = violations();
      if (v.check(request.skus.length > 0, "skus", "must name at least one SKU")) {
        v.check(request.skus.length <= MAX_BATCH_SKUS, "skus", `must name at most ${MAX_BATCH_SKUS} SKUs`);
      }
      if (request.skus.length <= MAX_BATCH_SKUS) request.skus.forEach((sku, i) => checkSku(v, `skus[${i}]`, sku));
      v.throwIfAny();
      return { stocks: (await batchTotals(database, request.skus)).map(skuMessage) };
    },

    async listStockLevels(request) {
      requireRole(ADMIN_ROLE);
      const v = violations();
      const location = request.location === "" ? undefined : checkLocation(v, "location", request.location);
      const page = readPage(v, request, PAGE_SIZE, { rpc: "ListStockLevels", location }, LEVELS_ORDER);
      v.throwIfAny();
      const { rows, nextPageToken } = await listLevels(database, page, location);
      return { levels: rows.map(levelMessage), nextPageToken };
    },

    async reserveStock(request) {
      requireServiceOrAdmin();
      const v = violations();
      checkReference(v, "reference", request.reference);
      const lines: Line[] = [];
      if (v.check(request.lines.length > 0, "lines", "must have at least one line")) {
        v.check(request.lines.length <= MAX_LINES, "lines", `must have at most ${MAX_LINES} lines`);
      }
      const seen = new Set<string>();
      request.lines.slice(0, MAX_LINES).forEach((line, i) => {
        const skuOk = checkSku(v, `lines[${i}].sku`, line.sku);
        const location = checkLocation(v, `lines[${i}].location`, line.location);
        const quantityOk = checkQuantity(v, `lines[${i}].quantity`, line.quantity, MAX_LINE_QUANTITY);
        const key = `${line.sku}\u0000${location}`;
        if (skuOk && !v.check(!seen.has(key), `lines[${i}]`, "repeats the SKU and location of an earlier line")) return;
        seen.add(key);
        if (skuOk && quantityOk) lines.push({ sku: line.sku, location, quantity: Number(line.quantity) });
      });
      const ttlMs = checkTtl(v, "ttl", request.ttl);
      v.throwIfAny();
      return { reservation: reservationMessage(await reserve(database, { reference: request.reference, lines, ttlMs })) };
    },

    async getReservation(request) {
      requireServiceOrAdmin();
      const v = violations();
      checkUuid(v, "reservation_id", request.reservationId);
      v.throwIfAny();
      return { reservation: reservationMessage(await getReservation(database, request.reservationId)) };
    },

    async commitReservation(request) {
      requireServiceOrAdmin();
      const v = violations();
      checkUuid(v, "reservation_id", request.reservationId);
      v.throwIfAny();
      return { reservation: reservationMessage(await commit(database, request.reservationId)) };
    },

    async releaseReservation(request) {
      requireServiceOrAdmin();
      const v = violations();
      checkUuid(v, "reservation_id", request.reservationId);
      v.throwIfAny();
      return { reservation: reservationMessage(await release(database, request.reservationId)) };
    },

    async restockReservation(request) {
      const caller = requireServiceOrAdmin();
      const v = violations();
      checkUuid(v, "reservation_id", request.reservationId);
      v.throwIfAny();
      return { reservation: reservationMessage(await restock(database, request.reservationId, caller.subject)) };
    },

    async receiveStock(request) {
      const admin = requireRole(ADMIN_ROLE);
      const v = violations();
      checkSku(v, "sku", request.sku);
      const location = checkLocation(v, "location", request.location);
      checkQuantity(v, "quantity", request.quantity, MAX_STOCK_QUANTITY);
      checkNote(v, "note", request.note);
      v.throwIfAny();
      const change = await receive(database, {
        sku: request.sku,
        location,
        quantity: Number(request.quantity),
        note: request.note,
        actor: admin.subject,
      });
      return { level: levelMessage(change.level), movement: movementMessage(change.movement) };
    },

    async adjustStock(request) {
      // Staff; a service only to put returned units back, once (returns restocking what came back).
      const caller = requireServiceOrRole(ADMIN_ROLE, "stock is adjusted by admins");
      if (!caller.roles.includes(ADMIN_ROLE) && !(request.reason === MovementReason.RETURNED && request.idempotencyKey !== "")) {
        throw new PermissionDeniedError("a service adjusts stock only to restock returned units (reason RETURNED, with an idempotency key)", { reason: "ROLE_REQUIRED" });
      }
      const v = violations();
      checkSku(v, "sku", request.sku);
      const location = checkLocation(v, "location", request.location);
      if (v.check(request.delta !== 0n, "delta", "must not be zero")) {
        v.check(request.delta <= MAX_STOCK_QUANTITY && request.delta >= -MAX_STOCK_QUANTITY, "delta", `must be within ±${MAX_STOCK_QUANTITY}`);
      }
      const reason = adjustReasons.get(request.reason);
      v.check(reason, "reason", "must be COUNT_CORRECTION, DAMAGED, LOST, RETURNED or OTHER");
      checkNote(v, "note", request.note);
      if (reason === "other") v.check(request.note.trim() !== "", "note", "is required when the reason is OTHER");
      if (request.idempotencyKey !== "") checkReference(v, "idempotency_key", request.idempotencyKey);
      v.throwIfAny();
      const change = await adjust(database, {
        sku: request.sku,
        location,
        delta: Number(request.delta),
        reason: reason!,
        note: request.note,
        actor: caller.subject,
        ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}),
      });
      return { level: levelMessage(change.level), movement: movementMessage(change.movement) };
    },

    async setLowStockThreshold(request) {
      requireRole(ADMIN_ROLE);
      const v = violations();
      checkSku(v, "sku", request.sku);
      v.check(request.threshold >= 0n && request.threshold <= MAX_STOCK_QUANTITY, "threshold", `must be between 0 and ${MAX_STOCK_QUANTITY}`);
      v.throwIfAny();
      return { stock: skuMessage(await setLowStockThreshold(database, request.sku, Number(request.threshold))) };
    },

    async listStockMovements(request) {
      requireRole(ADMIN_ROLE);
      const v = violations();
      checkSku(v, "sku", request.sku);
      const page = readPage(v, request, PAGE_SIZE, { rpc: "ListStockMovements", sku: request.sku }, MOVEMENTS_ORDER);
      v.throwIfAny();
      const { rows, nextPageToken } = await listMovements(database, request.sku, page);
      return { movements: rows.map(movementMessage), nextPageToken };
    },
  };
}
