// npm test runs the whole-machine tests (`*.alone.test.ts`) after the others, one at a time.
import test from "ava";
import { repositoryRoot } from "../src/index.ts";
import { aloneTestFiles, otherTestFiles } from "../src/test-files.ts";

test("files named *.alone.test.ts run apart from every other test file, and each file runs once", (t) => {
  const alone = aloneTestFiles(repositoryRoot);
  const others = otherTestFiles(repositoryRoot, alone);
  t.true(alone.includes("tools/stack/test/rolling-restart.alone.test.ts"), alone.join(" "));
  t.true(alone.every((file) => file.endsWith(".alone.test.ts")));
  t.true(others.includes("tools/stack/test/test-files.test.ts"));
  t.false(others.some((file) => file.endsWith(".alone.test.ts")));
  t.is(new Set([...alone, ...others]).size, alone.length + others.length);
});
