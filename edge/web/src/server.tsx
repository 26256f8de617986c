// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// Server rendering, run inside the edge (one origin for pages and API): React Router's static
// handler runs the matched routes' loaders (each one call through the edge to the mesh), React
// renders the HTML with the loader data for hydration, and the built client assets are served from
// dist/ with immutable caching.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { existsSync, statSync } from "node:fs";
import type { ServerResponse } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { renderToString } from "react-dom/server";
import { createStaticHandler, createStaticRouter, StaticRouterProvider } from "react-router";
import { setServerBaseUrl } from "./api.ts";
import { consoleEntry, entryAssets, readManifest, storefrontEntry, type EntryAssets } from "./assets.ts";
import { consoleShell, isConsolePath } from "./console/shell.ts";
import { headHtml, type PageHead, type RouteHandle } from "./head.ts";
import type { CreateWebPages, NodeResponse } from "./server-api.ts";
import { routes } from "./routes.tsx";
import { robotsTxt, sitemapXml } from "./sitemap.ts";
import { strings } from "./strings.ts";

// Found through the package, not this file: the edge may run this code bundled into edge/dist.
export const defaultDistDir = fileURLToPath(new URL("../dist", import.meta.resolve("@bazaar/web")));

interface BuiltBundles {
  storefront?: EntryAssets;
  console?: EntryAssets;
}

function readBundles(distDir: string): BuiltBundles {
  const manifest = readManifest(distDir);
  return { storefront: manifest && entryAssets(manifest, storefrontEntry), console: manifest && entryAssets(manifest, consoleEntry) };
}

/**
 * The built bundles, read again when the build's manifest changes (looked at once a second at most):
 * a rebuild under a running edge (Tilt's web resource, live update into a container) is served at once.
 */
function watchedBundles(distDir: string): () => BuiltBundles {
  const manifestFile = path.join(distDir, ".vite", "manifest.json");
  let bundles = readBundles(distDir);
  let seen = existsSync(manifestFile) ? statSync(manifestFile).mtimeMs : 0;
  let checked = Date.now();
  return () => {
    if (Date.now() - checked < 1000) return bundles;
    checked = Date.now();
    const changed = existsSync(manifestFile) ? statSync(manifestFile).mtimeMs : 0;
    if (changed !== seen) {
      try {
        bundles = readBundles(distDir);
        seen = changed;
      } catch {
        // Caught mid-write: the previous build serves until the next look.
      }
    }
    return bundles;
  };
}

const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b57d0"/><text x="8" y="12" font-size="11" text-anchor="middle" fill="#fff" font-family="sans-serif">B</text></svg>`;

const contentTypes: Record<string, string> = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png", ".woff2": "font/woff2" };

export const createWebPages: CreateWebPages = (options) => {
  setServerBaseUrl(options.apiBaseUrl, options.fetch);
  const distDir = options.distDir ?? defaultDistDir;
  const currentBundles = watchedBundles(distDir);
  const handler = createStaticHandler(routes);

  const send = (response: NodeResponse, status: number, headers: Record<string, string>, body: string | Buffer, head: boolean) => {
    (response as ServerResponse).writeHead(status, headers);
    if (head) response.end();
    else response.end(body);
  };

  return async function pages(request, response) {
    const url = new URL(request.url ?? "/", `http://${request.headers.host ?? request.headers[":authority"] ?? "localhost"}`);
    const head = request.method === "HEAD";
    if (url.pathname.startsWith("/assets/")) {
      const file = path.join(distDir, path.normalize(url.pathname).replace(/^(\.\.[/\\])+/, ""));
      if (!file.startsWith(path.join(distDir, "assets")) || !existsSync(file)) return send(response, 404, { "content-type": "text/plain" }, "not found", head);
      // Hashed names: a file's content never changes under its name.
      return send(response, 200, { "content-type": contentTypes[path.extname(file)] ?? "application/octet-stream", "cache-control": "public, max-age=31536000, immutable" }, await readFile(file), head);
    }
    if (url.pathname === "/favicon.svg" || url.pathname === "/favicon.ico") return send(response, 200, { "content-type": "image/svg+xml", "cache-control": "public, max-age=86400" }, favicon, head);
    if (url.pathname === "/robots.txt") return send(response, 200, { "content-type": "text/plain" }, robotsTxt(url.origin), head);
    if (url.pathname === "/sitemap.xml") return send(response, 200, { "content-type": "application/xml; charset=utf-8", "cache-control": "public, max-age=3600" }, await sitemapXml(url.origin), head);
    const bundles = currentBundles();
    // The staff console: its own bundle, a shell with no one's data (it signs in in the browser).
    if (isConsolePath(url.pathname) && bundles.console) {
      const shell = consoleShell(bundles.console);
      return send(response, 200, shell.headers, shell.html, head);
    }
    const assets = bundles.storefront;
    if (!assets) {
      return send(response, 503, { "content-type": "text/plain; charset=utf-8" }, "The storefront is not built: run `npm run build -w @bazaar/web`.\n", head);
    }
    const context = await handler.query(new Request(url, { method: "GET", headers: request.headers as Record<string, string> }));
    if (context instanceof Response) {
      const location = context.headers.get("location");
      return send(response, context.status, location ? { location } : {}, "", head);
    }
    const router = createStaticRouter(handler.dataRoutes, context);
    // The hydration data is an inline script: allowed by this response's nonce, not by 'unsafe-inline'.
    const nonce = randomBytes(16).toString("base64");
    const app = renderToString(<StaticRouterProvider router={router} context={context} nonce={nonce} />);
    // The deepest matched route that describes its page writes the head.
    let pageHead: PageHead = { title: strings.shopName, description: strings.tagline, canonicalPath: url.pathname };
    for (const match of context.matches) {
      const routeHead = (match.route.handle as RouteHandle | undefined)?.head;
      const data = context.loaderData[match.route.id];
      if (routeHead && context.statusCode < 400) pageHead = routeHead(data);
    }
    if (context.statusCode === 404) pageHead = { ...pageHead, title: `${strings.notFound} — ${strings.shopName}` };
    const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <link rel="icon" href="/favicon.svg" type="image/svg+xml">
    ${headHtml(pageHead, url.origin)}
    ${assets.styles.map((href) => `<link rel="stylesheet" href="${href}">`).join("\n    ")}
    ${assets.files.slice(1).map((file) => `<link rel="modulepreload" href="/${file}">`).join("\n    ")}
  </head>
  <body>
    <div id="root">${app}</div>
    <script type="module" src="${assets.script}"></script>
  </body>
</html>`;
    // Pages carry no one's data (the cart and checkout read theirs in the browser): cacheable briefly.
    send(
      response,
      context.statusCode,
      {
        "content-type": "text/html; charset=utf-8",
        "cache-control": context.statusCode === 200 ? "public, max-age=30" : "no-store",
        "content-security-policy": `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'`,
      },
      html,
      head,
    );
  };
};
