// The cart process: telemetry first, then config, then the service; SIGTERM shuts it down in order.
import { loadConfig, runService, startTelemetry } from "@bazaar/platform";
import { cartConfigSchema } from "./config.ts";
import { cart } from "./server.ts";

const telemetry = startTelemetry({ serviceName: "cart" });
const config = loadConfig(cartConfigSchema);
await runService(cart({ config }), { config, telemetry });
