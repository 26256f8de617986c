// A deleted account's parcels: delivered or cancelled ones lose the address at once (only the country
// stays); those still on their way keep it until delivered, when the database erases it (migration
// shipping_0003's trigger). A user's download of their data gets their shipments with addresses and
// tracking.
import { anonymisedAddress, personalDataErasure, typedQueries, type ConsumerDefinition, type Database, type GatherPersonalData } from "@bazaar/platform";
import { shippingEntities } from "./entities.ts";

export function personalDataConsumers(name: string): ConsumerDefinition[] {
  return [
    personalDataErasure(name, async (userId, em) => {
      const shipments = typedQueries(em, shippingEntities);
      await shipments
        .updateTable("shipment")
        .set({ address: anonymisedAddress("address"), updated_at: new Date() })
        .where("user_id", "=", userId)
        .where("status", "in", ["delivered", "cancelled"])
        .execute();
      await shipments
        .updateTable("shipment")
        .set({ erase_address_when_delivered: true })
        .where("user_id", "=", userId)
        .where("status", "not in", ["delivered", "cancelled"])
        .execute();
    }),
  ];
}

/** The user's shipments (returns' labels included), oldest first: address, lines, carrier and tracking. */
export function gatherPersonalData(database: Database): GatherPersonalData {
  return async (userId) => ({
    shipments: await typedQueries(database.em(), shippingEntities)
      .selectFrom("shipment")
      .select(["id", "order_id", "origin", "status", "carrier", "service_level", "address", "lines", "tracking_number", "tracking_url", "created_at", "updated_at"])
      .where("user_id", "=", userId)
      .orderBy("created_at")
      .execute(),
  });
}
