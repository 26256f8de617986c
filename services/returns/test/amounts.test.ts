import test from "ava";
import { unitsAmount, withTaxShares } from "../src/amounts.ts";

test("tax shares add up to the order's tax and follow the bases", (t) => {
  const amounts = withTaxShares([{ key: "A", base: 1000n }, { key: "B", base: 2001n }, { key: "shipping", base: 499n }], 281n);
  const total = [...amounts.values()].reduce((a, b) => a + b, 0n);
  t.is(total, 1000n + 2001n + 499n + 281n);
  t.is(amounts.get("A"), 1000n + 80n);
  t.is(amounts.get("B"), 2001n + 161n);
});

test("a line returned in parts refunds exactly its amount, unit by unit", (t) => {
  const line = 1001n;
  const parts = [unitsAmount(line, 3, 0, 1), unitsAmount(line, 3, 1, 1), unitsAmount(line, 3, 2, 1)];
  t.deepEqual(parts, [333n, 334n, 334n]);
  t.is(unitsAmount(line, 3, 0, 2) + unitsAmount(line, 3, 2, 1), line);
});
