// Inventory events leave through the outbox and arrive on JetStream, on the subjects the catalog and
// order services consume (bazaar.inventory.<event>), with the event id as the message id.
import { fromBinary } from "@bufbuild/protobuf";
import test from "ava";
import { connect, DeliverPolicy } from "nats";
import { BackInStockSchema, OutOfStockSchema, StockReservedSchema } from "@bazaar/contracts/bazaar/inventory/v1/events_pb";
import { env, startInventory, unique, type Harness, uniqueSku } from "./helpers.ts";

let inventory: Harness;
test.before(async () => {
  inventory = await startInventory();
});
test.after.always(async () => {
  await inventory?.stop();
});

test("OutOfStock, BackInStock and StockReserved reach JetStream on bazaar.inventory subjects with their event ids", async (t) => {
  const nats = await connect({ servers: (env.NATS_URL ?? "nats://127.0.0.1:4222").split(",") });
  t.teardown(() => nats.close());
  const since = new Date(Date.now() - 1000).toISOString();

  const sku = uniqueSku();
  await inventory.admin.receiveStock({ sku, quantity: 2n });
  const reference = unique("order");
  const { reservation } = await inventory.checkout.reserveStock({ reference, lines: [{ sku, quantity: 2n }] });
  await inventory.checkout.releaseReservation({ reservationId: reservation!.id });

  const consumer = await nats.jetstream().consumers.get("BAZAAR_INVENTORY", {
    // One filter subject: multi-subject filters need NATS 2.10, and other tests' events are skipped below.
    filterSubjects: "bazaar.inventory.>",
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: since,
  });
  const seen: string[] = [];
  const ids = new Set<string>();
  const messages = await consumer.consume();
  const timer = setTimeout(() => messages.stop(), 15_000);
  for await (const message of messages) {
    const msgId = message.headers?.get("Nats-Msg-Id") ?? "";
    if (message.subject === "bazaar.inventory.stock_reserved") {
      const event = fromBinary(StockReservedSchema, message.data);
      if (event.reference === reference) {
        seen.push("reserved");
        t.is(msgId, event.eventId);
        t.is(event.reservationId, reservation!.id);
      }
    } else if (message.subject.endsWith("out_of_stock") || message.subject.endsWith("back_in_stock")) {
      const schema = message.subject.endsWith("out_of_stock") ? OutOfStockSchema : BackInStockSchema;
      const event = fromBinary(schema, message.data);
      if (event.sku === sku) {
        seen.push(message.subject.endsWith("out_of_stock") ? "out" : "back");
        t.is(msgId, event.eventId);
        ids.add(event.eventId);
      }
    }
    if (seen.length === 4) break;
  }
  clearTimeout(timer);
  t.deepEqual(seen, ["back", "reserved", "out", "back"]);
  t.is(ids.size, 3);
});
