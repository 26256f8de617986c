// The built-in test carrier: issues tracking numbers derived from the shipment (so a repeated label
// request gets the same label), and is driven through its lifecycle by RecordTrackingUpdate or the
// signed webhook — the way a real carrier pushes updates.
import { createHash } from "node:crypto";
import type { CarrierPort } from "./carrier.ts";

export function createTestCarrier(options: { baseUrl?: string } = {}): CarrierPort {
  const base = options.baseUrl ?? "https://carrier.test";
  return {
    name: "test",
    async createLabel({ shipmentId }) {
      const digits = BigInt(`0x${createHash("sha256").update(shipmentId).digest("hex").slice(0, 15)}`).toString().padStart(18, "0").slice(0, 18);
      const trackingNumber = `TEST${digits}`;
      return { trackingNumber, labelUrl: `${base}/labels/${trackingNumber}.pdf`, trackingUrl: `${base}/track/${trackingNumber}` };
    },
    async cancelLabel() {},
  };
}
