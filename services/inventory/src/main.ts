// The inventory process: telemetry first, then config, then the service; SIGTERM shuts it down in order.
import { loadConfig, platformConfigSchema, runService, startTelemetry } from "@bazaar/platform";
import { inventory } from "./server.ts";

const telemetry = startTelemetry({ serviceName: "inventory" });
const config = loadConfig(platformConfigSchema);
await runService(inventory(), { config, telemetry });
