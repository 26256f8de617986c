import test from "ava";
import { tally } from "../src/tap.ts";

test("counts passes, failures, skips and todos from TAP lines", (t) => {
  const counts = tally();
  for (const line of [
    "TAP version 13",
    "ok 1 - a › works",
    "not ok 2 - b › breaks",
    "ok 3 - c › later # SKIP",
    "not ok 4 - d › planned # TODO",
    "  ---",
    "    message: ok fine",
    "# ok",
    "ok 5 - e › title with # hash",
    "1..5",
  ]) counts.add(line);
  t.deepEqual(counts.result(), { passed: 2, failed: 1, skipped: 2 });
});
