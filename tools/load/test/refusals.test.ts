// The load goes to the address it is given and nowhere else: a redirect to another host (or another
// path) is refused before anything reaches it, and a run against such a shop fails at the start.
import test from "ava";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createGuardedFetch, RefusedTarget } from "../src/guarded-fetch.ts";
import { parseOptions, type LoadOptions } from "../src/options.ts";
import { runLoad } from "../src/run.ts";

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? "");
    handler!(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

test("a redirect to another host is refused and the other host never hears from the load", async (t) => {
  const other = await listen((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  const shop = await listen((req, res) => res.writeHead(307, { location: `${other.url}${req.url}` }).end());
  t.teardown(() => {
    other.server.close();
    shop.server.close();
  });
  const guarded = createGuardedFetch(new URL(shop.url));
  const error = await t.throwsAsync(guarded(`${shop.url}/bazaar.catalog.v1.CatalogService/ListCategories`), { instanceOf: RefusedTarget });
  t.regex(error!.message, new RegExp(`answered 307 to ${other.url}`));

  const options = parseOptions(["--url", shop.url, "--rate", "5", "--duration", "1"]) as LoadOptions;
  await t.throwsAsync(runLoad(options), { message: /307/ }, "the run fails before any journey");
  t.true(shop.hits.length >= 1);
  t.deepEqual(other.hits, [], "nothing reached the other host");
});

test("a URL outside the given address is refused without a request", async (t) => {
  const shop = await listen((_req, res) => res.writeHead(200).end("{}"));
  t.teardown(() => shop.server.close());
  const guarded = createGuardedFetch(new URL(`${shop.url}/shop`));
  await t.throwsAsync(guarded("http://example.invalid/shop/x"), { instanceOf: RefusedTarget, message: /outside/ });
  await t.throwsAsync(guarded(`${shop.url}/shopping/x`), { instanceOf: RefusedTarget }, "a longer path is not the prefix");
  await t.throwsAsync(guarded(`${shop.url}/other`), { instanceOf: RefusedTarget });
  t.deepEqual(shop.hits, []);
  t.is((await guarded(`${shop.url}/shop/x`)).status, 200);
  t.deepEqual(shop.hits, ["/shop/x"]);
});
