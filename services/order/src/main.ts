// The order process: telemetry first, then config, then the service; SIGTERM shuts it down in order.
import { loadConfig, runService, startTelemetry } from "@bazaar/platform";
import { orderConfigSchema } from "./config.ts";
import { order } from "./server.ts";

const telemetry = startTelemetry({ serviceName: "order" });
const config = loadConfig(orderConfigSchema);
await runService(order({ config }), { config, telemetry });
