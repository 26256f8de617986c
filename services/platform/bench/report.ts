import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** The machine a figure was measured on, in one line. */
export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

/**
 * Replaces (or appends) the section `## <title>` of BENCHMARKS.md at the repository root with `body`,
 * stamped with the date and machine.
 */
export function recordSection(root: string, title: string, body: string): string {
  const file = path.join(root, "BENCHMARKS.md");
  const header = "# Benchmarks\n\nFigures from `npm run bench…` runs, each with its date and machine. Never asserted in tests.\n";
  const current = existsSync(file) ? readFileSync(file, "utf8") : header;
  const section = `## ${title}\n\n_${new Date().toISOString().slice(0, 10)} · ${machine()}_\n\n${body.trim()}\n`;
  const pattern = new RegExp(`## ${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n[\\s\\S]*?(?=\\n## |$)`);
  const next = pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}`;
  writeFileSync(file, next.endsWith("\n") ? next : `${next}\n`);
  return file;
}
