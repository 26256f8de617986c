// `npm run build [-- <folder>…]`: the bundles (service-bundles.ts) of the given deployables, e.g.
// `services/cart` or `edge`, or of every one. npm start and the tests' stacks build their own; this is
// for the images and for running a bundle by hand (`node --enable-source-maps services/cart/dist/main.mjs`).
import path from "node:path";
import { buildServiceBundles, bundlePath } from "./service-bundles.ts";
import { discoverServices } from "./services.ts";
import { repositoryRoot } from "./settings.ts";

const all = discoverServices(repositoryRoot);
const asked = process.argv.slice(2).map((folder) => path.resolve(folder));
const unknown = asked.filter((dir) => !all.some((s) => s.dir === dir));
if (unknown.length > 0) {
  process.stderr.write(`build: not a deployable (a folder with src/main.ts): ${unknown.map((dir) => path.relative(repositoryRoot, dir)).join(", ")}\n`);
  process.exit(2);
}
const chosen = asked.length > 0 ? all.filter((s) => asked.includes(s.dir)) : all;
await buildServiceBundles(chosen);
for (const service of chosen) process.stdout.write(`built ${path.relative(repositoryRoot, bundlePath(service))}\n`);
