// Returns as a process: telemetry first, then config, then the service.
import { loadConfig, runService, startTelemetry } from "@bazaar/platform";
import { returnsConfigSchema } from "./config.ts";
import { returns } from "./server.ts";

const telemetry = startTelemetry({ serviceName: "returns" });
const config = loadConfig(returnsConfigSchema);
await runService(returns({ config }), { config, telemetry });
