// The promotion service for the edge benchmark in its own process (the cart evaluates every priced
// cart there). Prints "port <n>" once it listens.
import { createService, loadConfig } from "@bazaar/platform";
import { promotion, promotionConfigSchema } from "@bazaar/promotion";

const config = loadConfig(promotionConfigSchema);
const service = await createService(promotion({ config, name: process.env.BENCH_PROMOTION_NAME!, followOrders: false }), { config, signals: ["SIGTERM", "SIGINT"] });
process.stdout.write(`port ${service.port}\n`);
