// Inventory events leave through the outbox and arrive on JetStream, on the subjects the catalog and
// order services consume (bazaar.inventory.<event>), with the event id as the message id.
import { fromBinary } from "@bufbuild/protobuf";
import test from "ava";
import { readStream } from "@bazaar/platform/testing";
import { BackInStockSchema, OutOfStockSchema, StockReservedSchema } from "@bazaar/contracts/bazaar/inventory/v1/events_pb";
import { startInventory, unique, type Harness, uniqueSku } from "./helpers.ts";

let inventory: Harness;
test.before(async () => {
  inventory = await startInventory();
});
test.after.always(async () => {
  await inventory?.stop();
});

test("OutOfStock, BackInStock and StockReserved reach JetStream on bazaar.inventory subjects with their event ids", async (t) => {
  const since = new Date(Date.now() - 1000);

  const sku = uniqueSku();
  await inventory.admin.receiveStock({ sku, quantity: 2n });
  const reference = unique("order");
  const { reservation } = await inventory.checkout.reserveStock({ reference, lines: [{ sku, quantity: 2n }] });
  await inventory.checkout.releaseReservation({ reservationId: reservation!.id });

  // Other tests' events on the same stream are skipped.
  const seen = await readStream({
    stream: "BAZAAR_INVENTORY",
    subject: "bazaar.inventory.>",
    since,
    count: 4,
    timeoutMs: 15_000,
    what: `the four inventory events of ${sku}`,
    pick: ({ subject, data, msgId }) => {
      if (subject === "bazaar.inventory.stock_reserved") {
        const event = fromBinary(StockReservedSchema, data);
        return event.reference === reference ? { kind: "reserved", msgId, eventId: event.eventId, reservationId: event.reservationId } : undefined;
      }
      const out = subject.endsWith("out_of_stock");
      if (!out && !subject.endsWith("back_in_stock")) return undefined;
      const event = fromBinary(out ? OutOfStockSchema : BackInStockSchema, data);
      return event.sku === sku ? { kind: out ? "out" : "back", msgId, eventId: event.eventId, reservationId: undefined } : undefined;
    },
  });
  t.deepEqual(seen.map((e) => e.kind), ["back", "reserved", "out", "back"]);
  for (const e of seen) t.is(e.msgId, e.eventId, `${e.kind}: the message id is the event id`);
  t.is(seen.find((e) => e.kind === "reserved")?.reservationId, reservation!.id);
  t.is(new Set(seen.filter((e) => e.kind !== "reserved").map((e) => e.eventId)).size, 3);
});
