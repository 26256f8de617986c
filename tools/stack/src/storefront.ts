// The storefront's browser bundle (edge/web, vite build): the edge serves the pages from it, so
// `npm start` and `npm test` build it first (a couple of seconds; it also checks the JS budget).
import { spawn } from "node:child_process";
import { PrerequisiteError } from "./errors.ts";

export function buildStorefront(root: string, output: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", "build:web"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) return reject(new PrerequisiteError(`the storefront's build failed (npm run build:web):\n${log}`));
      // Vite's summary is noise here; the budget line is worth showing.
      for (const line of log.split("\n")) if (line.startsWith("web:")) output(line);
      resolve();
    });
  });
}
