// Which test files `npm test` runs, and which of them run alone: a file named `*.alone.test.ts` takes
// the whole machine (a mesh of every service, restarts under load) and runs after the others, one at
// a time. The patterns are ava's own (package.json "ava.files").
import { globSync, readFileSync } from "node:fs";
import path from "node:path";

function avaPatterns(root: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { ava?: { files?: string[] } };
  return manifest.ava?.files ?? [];
}

function testFiles(root: string): string[] {
  const patterns = avaPatterns(root);
  if (patterns.some((p) => p.startsWith("!"))) throw new Error('test-files: negated "ava.files" patterns are not supported here');
  return [...new Set(patterns.flatMap((pattern) => globSync(pattern, { cwd: root })))].filter((file) => !file.split(path.sep).includes("node_modules")).sort();
}

/** The files that run alone, after the rest. */
export function aloneTestFiles(root: string): string[] {
  return testFiles(root).filter((file) => file.endsWith(".alone.test.ts"));
}

/** Every test file but `alone`. */
export function otherTestFiles(root: string, alone: readonly string[]): string[] {
  return testFiles(root).filter((file) => !alone.includes(file));
}
