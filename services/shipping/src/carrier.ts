// The carrier port: what the shipping service needs of a carrier. A real adapter (a carrier's API
// client) implements it and is registered by name in server.ts; methods name their carrier, and a
// shipment's label and tracking go through the adapter of its method's carrier. Tracking updates come
// back either through RecordTrackingUpdate (an adapter polling, or staff) or a signed webhook
// (carrier-webhook.ts), both ending in recordTracking (shipments.ts).

export interface LabelRequest {
  /** The shipment, or "return-<return id>" for a return label: the key a repeated request is answered by. */
  shipmentId: string;
  /** "return": a parcel from `address` back to the shop (a return label). Default "outbound". */
  direction?: "outbound" | "return";
  serviceLevel: string;
  /** Where it goes, as the order has it. */
  address: Record<string, unknown>;
  /** Total weight in grams when known (0 otherwise). */
  weightGrams: number;
}

export interface Label {
  trackingNumber: string;
  labelUrl: string;
  trackingUrl: string;
}

/** A tracking update's status, as the port speaks of it. */
export type TrackingKind = "in_transit" | "out_for_delivery" | "delivered" | "exception";

export interface CarrierPort {
  /** The carrier's name, as methods name it (e.g. "test"). */
  readonly name: string;
  /** Optional live rating; the shipping service prices by its own rate rules when absent. */
  quote?(request: { serviceLevel: string; weightGrams: number; countryCode: string }): Promise<{ priceMinor: number; currency: string }>;
  /** Buys a label. Called again for the same shipment, it must return the same label (idempotent by shipmentId). */
  createLabel(request: LabelRequest): Promise<Label>;
  /** Cancels (voids) a label that has not been used. */
  cancelLabel(trackingNumber: string): Promise<void>;
}

/** The carrier cannot be reached or refused the call. */
export class CarrierError extends Error {
  override name = "CarrierError";
}
