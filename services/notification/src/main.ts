// Notification as a process: telemetry first, then config, then the service.
import { loadConfig, runService, startTelemetry } from "@bazaar/platform";
import { notificationConfigSchema } from "./config.ts";
import { notification } from "./server.ts";

const telemetry = startTelemetry({ serviceName: "notification" });
const config = loadConfig(notificationConfigSchema);
await runService(notification({ config }), { config, telemetry });
