// Promotion as a process: telemetry first, then config, then the service.
import { loadConfig, runService, startTelemetry } from "@bazaar/platform";
import { promotionConfigSchema } from "./config.ts";
import { promotion } from "./server.ts";

const telemetry = startTelemetry({ serviceName: "promotion" });
const config = loadConfig(promotionConfigSchema);
await runService(promotion({ config }), { config, telemetry });
