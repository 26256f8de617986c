// kill -9 of the returns service between inventory's restock of returned units and its record, then a
// restart on the same database: the restarted service finds the line received resellable and not
// recorded restocked, asks inventory again under the same idempotency key (which inventory answers
// with the movement already made) and records it — the units come back exactly once.
import test from "ava";
import { MovementReason } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { ReturnReason } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { testEnv } from "@bazaar/platform/testing";
import { passing } from "../../order/test/helpers.ts";
import { returnsChildren } from "./child-process.ts";
import { deliveredGuestOrder, eventually, failure, sellable, startReturnsMesh, stockOf } from "./helpers.ts";

test("SIGKILL between inventory's restock and its record, then a restart: the resellable units are back once, in one RETURNED movement", async (t) => {
  const r = await startReturnsMesh(t);
  const children = await returnsChildren(r, t);
  const sku = await sellable(r.mesh, { price: 900, stock: 10 });
  const { order } = await deliveredGuestOrder(r.mesh, [{ sku, quantity: 3 }]);
  const sold = (await stockOf(r.mesh, sku)).onHand;
  t.is(sold, 7);

  const first = await children.start({ RETURNS_TEST_CRASH_AFTER_RESTOCK: "1" });
  const staff = r.returnsAt(first.address).admin;
  const { return: requested } = await staff.requestReturn({ orderId: order.id, lines: [{ sku, quantity: 3 }], reason: ReturnReason.CHANGED_MIND });
  await staff.approveReturn({ returnId: requested!.id });
  const receipt = await failure(staff.receiveReturn({ returnId: requested!.id, lines: [{ sku, resellable: 2, damaged: 1 }] }));
  t.not(receipt.code, undefined, "the call dies with the process");
  t.is(await first.exited, "SIGKILL");

  // Inventory took the units back; the return does not know yet.
  t.is((await stockOf(r.mesh, sku)).onHand, sold + 2);
  t.deepEqual(await children.sql("select received_resellable, received_damaged, restocked from return_line where return_id = $1", [requested!.id]), [
    { received_resellable: 2, received_damaged: 1, restocked: 0 },
  ]);

  const second = await children.start();
  await passing(testEnv.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500", children.name);
  const after = r.returnsAt(second.address).admin;
  const line = await eventually("the restarted service to record the restock", async () => {
    const { return: current } = await after.getReturn({ returnId: requested!.id });
    return current!.lines[0]!.restocked === 2 ? current!.lines[0]! : undefined;
  });
  t.is(line.receivedResellable, 2);
  t.is((await stockOf(r.mesh, sku)).onHand, sold + 2, "not restocked twice");
  const { movements } = await r.mesh.inventoryAdmin.listStockMovements({ sku });
  const returned = movements.filter((m) => m.reason === MovementReason.RETURNED);
  t.deepEqual(
    returned.map((m) => [m.delta, m.note]),
    [[2n, `return ${requested!.id}`]],
    "one movement of type return",
  );
});
