// Payment as a process: telemetry first, then config, then the service.
import { loadConfig, runService, startTelemetry } from "@bazaar/platform";
import { paymentConfigSchema } from "./config.ts";
import { payment } from "./server.ts";

const telemetry = startTelemetry({ serviceName: "payment" });
const config = loadConfig(paymentConfigSchema);
await runService(payment({ config }), { config, telemetry });
