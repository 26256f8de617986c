// What tools may import from the inventory service: the definition, its data and the seed helper.
export { inventory, type InventoryOptions } from "./server.ts";
export { inventoryEntities, Reservation, ReservationLine, SkuStock, StockLevel, StockMovement } from "./entities.ts";
export { inventoryMigrations } from "../migrations/index.ts";
export { seedStock, type SeedItem } from "./stock.ts";
