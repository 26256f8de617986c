// After `vite build`: the first page's JavaScript — the storefront's entry and the chunks it imports
// statically (not the pages loaded on demand, nor the staff console's bundle) — gzipped, must stay
// within budget (printed).
import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { consoleEntry, entryAssets, reachableFiles, readManifest, storefrontEntry } from "../src/assets.ts";

const budgetBytes = 150 * 1024;
const dist = path.join(import.meta.dirname, "..", "dist");
const manifest = readManifest(dist);
const storefront = manifest && entryAssets(manifest, storefrontEntry);
const staff = manifest && entryAssets(manifest, consoleEntry);
if (!storefront || !staff) {
  process.stderr.write("web: the manifest lacks an entry\n");
  process.exit(1);
}
const gzipped = (files: string[]) => files.reduce((sum, file) => sum + gzipSync(readFileSync(path.join(dist, file))).length, 0);
const first = gzipped(storefront.files);
const storefrontEver = reachableFiles(manifest ?? {}, storefrontEntry);
const consoleOnly = staff.files.filter((file) => !storefrontEver.includes(file));
const onDemand = Object.values(manifest ?? {}).filter((chunk) => chunk.file.endsWith(".js") && !storefront.files.includes(chunk.file) && !staff.files.includes(chunk.file)).length;
process.stdout.write(`web: first page JavaScript ${(first / 1024).toFixed(1)} KiB (${(first / 1000).toFixed(1)} kB) gzipped (${storefront.files.length} file(s), ${onDemand} more loaded on demand; budget ${budgetBytes / 1024} KiB)\n`);
process.stdout.write(`web: staff console's own JavaScript ${(gzipped(consoleOnly) / 1024).toFixed(1)} KiB gzipped (${consoleOnly.length} file(s), never loaded by the storefront)\n`);
if (first > budgetBytes) {
  process.stderr.write("web: over the JavaScript budget\n");
  process.exit(1);
}
