// Counts the statements a process sends to PostgreSQL through MikroORM's pg driver, grouped by their
// text with literals folded to `?`, and writes them (most frequent first) to `file` at exit.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";

export function countStatements(file: string): void {
  // MikroORM's PostgreSQL driver brings its own pg: patch that one.
  const pg = createRequire(import.meta.resolve("@mikro-orm/postgresql"))("pg") as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
  const counts = new Map<string, number>();
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    const config = args[0];
    const text = typeof config === "string" ? config : ((config as { text?: string } | undefined)?.text ?? "");
    const shape = text
      .replace(/'(?:[^']|'')*'/g, "?")
      .replace(/\b\d+(\.\d+)?\b/g, "?")
      .replace(/\s+/g, " ")
      .slice(0, 160);
    counts.set(shape, (counts.get(shape) ?? 0) + 1);
    return original.apply(this, args);
  };
  process.on("exit", () => {
    const sorted = Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
    writeFileSync(file, JSON.stringify(sorted, null, 1));
  });
}
