// The built bundles as Vite's manifest describes them: two entries (the storefront's hydration and
// the staff console), each with the chunks it imports. Read by the server (which script and styles a
// page names) and by the bundle-size check (what a storefront page downloads).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export const storefrontEntry = "src/entry-client.tsx";
export const consoleEntry = "src/console/entry.tsx";

interface ManifestChunk {
  file: string;
  css?: string[];
  imports?: string[];
  dynamicImports?: string[];
  isEntry?: boolean;
}
type Manifest = Record<string, ManifestChunk>;

export interface EntryAssets {
  /** The entry's script, as a URL path. */
  script: string;
  /** Its styles and those of the chunks it imports statically. */
  styles: string[];
  /** Every script file the entry loads before it runs (itself and its static imports), relative to dist/. */
  files: string[];
}

export function readManifest(distDir: string): Manifest | undefined {
  const manifestFile = path.join(distDir, ".vite", "manifest.json");
  return existsSync(manifestFile) ? (JSON.parse(readFileSync(manifestFile, "utf8")) as Manifest) : undefined;
}

export function entryAssets(manifest: Manifest, entry: string): EntryAssets | undefined {
  if (!manifest[entry]) return undefined;
  const files = new Set<string>();
  const styles = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const css of chunk.css ?? []) styles.add(`/${css}`);
    for (const imported of chunk.imports ?? []) visit(imported);
  };
  visit(entry);
  return { script: `/${manifest[entry].file}`, styles: [...styles], files: [...files] };
}

/** Every script file an entry may ever load: its static imports and, transitively, what it loads on demand. */
export function reachableFiles(manifest: Manifest, entry: string): string[] {
  const files = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const imported of [...(chunk.imports ?? []), ...(chunk.dynamicImports ?? [])]) visit(imported);
  };
  visit(entry);
  return [...files];
}
