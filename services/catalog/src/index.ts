// @bazaar/catalog: what tools may import — the service definition, its data model and migrations,
// and the demo-data seeder. Other services talk to the catalog only through its contract.
export { catalog, type CatalogOptions } from "./server.ts";
export { catalogEntities, Category, Product, Variant, ProductPrice, SkuStock, Review } from "./entities.ts";
export { catalogMigrations } from "../migrations/index.ts";
export { seedCatalog, type SeedCatalogOptions, type SeedCatalogResult, type SeededSku } from "./seed.ts";
