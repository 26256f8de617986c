// Identity as a process: telemetry first, then config, then the service.
import { loadConfig, runService, startTelemetry } from "@bazaar/platform";
import { identityConfigSchema } from "./config.ts";
import { identity } from "./server.ts";

const telemetry = startTelemetry({ serviceName: "identity" });
const config = loadConfig(identityConfigSchema);
const definition = identity({ config });
await runService(definition, { config, telemetry, verifier: definition.verifier, serviceCredentials: definition.serviceCredentials });
