// Shipping as a process: telemetry first, then config, then the service.
import { loadConfig, runService, startTelemetry } from "@bazaar/platform";
import { shippingConfigSchema } from "./config.ts";
import { shipping } from "./server.ts";

const telemetry = startTelemetry({ serviceName: "shipping" });
const config = loadConfig(shippingConfigSchema);
await runService(shipping({ config }), { config, telemetry });
