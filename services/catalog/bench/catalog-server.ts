// The catalog as a separate process for the benchmark (so the load generator does not share its
// event loop): a name of its own (database bazaar_<name>), prints "port <n>" once registered.
import { loadConfig, platformConfigSchema, runService, startTelemetry } from "@bazaar/platform";
import { catalog } from "../src/server.ts";

const name = process.env.CATALOG_BENCH_NAME ?? "bench-catalog";
const telemetry = startTelemetry({ serviceName: name });
const service = await runService(catalog({ name, followStock: false }), { config: loadConfig(platformConfigSchema), telemetry });
console.log(`port ${service.port}`);
