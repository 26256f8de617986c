// The catalog as a process: telemetry first, then config, then the service.
import { loadConfig, platformConfigSchema, runService, startTelemetry } from "@bazaar/platform";
import { catalog } from "./server.ts";

const telemetry = startTelemetry({ serviceName: "catalog" });
const config = loadConfig(platformConfigSchema);
await runService(catalog(), { config, telemetry });
