// The consuming side of the event-lag benchmark, as its own service process (a consumer lives in
// another service than the publisher). Reads LAG_DOMAIN's stream until LAG_TOTAL events arrived, then
// prints "lags <json>" (ms from commit to handler, per event) and stops.
import {
  createService,
  loadConfig,
  onEvent,
  platformConfigSchema,
} from "../src/index.ts";
import { CreateThingTable, Thing } from "../test/fixtures/runtime/test-service.ts";
import { thingHappened } from "../test/fixtures/events/support.ts";

const domain = process.env.LAG_DOMAIN!;
const total = Number(process.env.LAG_TOTAL);
const name = process.env.LAG_NAME!;
const lags: number[] = [];
let finish: () => void = () => {};
const done = new Promise<void>((resolve) => (finish = resolve));

const service = await createService(
  {
    name,
    database: { entities: [Thing], migrations: [{ name: "test_0001_thing", class: CreateThingTable }] },
    consumes: [domain],
    setup: () => ({
      routes: () => {},
      consumers: [
        {
          domain,
          durable: name,
          concurrency: Number(process.env.LAG_CONCURRENCY ?? 1),
          handlers: [
            onEvent(thingHappened(domain), async (happened) => {
              lags.push(Date.now() - Number((happened as unknown as { name: string }).name));
              if (lags.length === total) finish();
            }),
          ],
        },
      ],
    }),
  },
  { config: loadConfig(platformConfigSchema) },
);
console.log("ready");
await done;
console.log(`lags ${JSON.stringify(lags)}`);
await service.stop();
process.exit(0);
