// What tools may import from the inventory service: the definition, its data and the seed helper.
export { inventoryService, type InventoryOptions } from "./server.ts";
export { entities, Reservation, ReservationLine, SkuStock, StockLevel, StockMovement } from "./entities.ts";
export { migrations } from "../migrations/index.ts";
export { seedStock, type SeedItem } from "./stock.ts";
export type { Sweeper } from "./sweeper.ts";
