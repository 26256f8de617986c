// The browser bundles: two entries — the storefront's hydration and the staff console (its own
// bundle: a storefront page never loads console code) — hashed assets and a manifest the server reads.
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";
import { consoleShell, isConsolePath } from "./src/console/shell.ts";

/**
 * `npm run dev:web` serves the console too: `/admin` and below get the console's shell naming its
 * entry's source (Vite adds its client and React's refresh preamble), where the dev server would
 * otherwise answer the storefront's index.html. The edge's strict CSP is not sent here: Vite's dev
 * client needs inline scripts.
 */
function consoleInDevServer(): Plugin {
  return {
    name: "bazaar-console-dev-shell",
    configureServer(server) {
      server.middlewares.use(async (request, response, next) => {
        const pathname = new URL(request.url ?? "/", "http://dev").pathname;
        if (request.method !== "GET" || !isConsolePath(pathname)) return next();
        try {
          const { html } = consoleShell({ script: "/src/console/entry.tsx", styles: [], files: [] });
          response.setHeader("content-type", "text/html; charset=utf-8");
          response.end(await server.transformIndexHtml(request.url ?? pathname, html));
        } catch (error) {
          next(error);
        }
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), consoleInDevServer()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    manifest: true,
    rollupOptions: { input: ["src/entry-client.tsx", "src/console/entry.tsx"] },
  },
  // `npm run dev:web`: Vite's dev server with hot reload, the API proxied to a running edge.
  server: {
    proxy: { "^/bazaar\\.": process.env.EDGE_URL ?? "http://127.0.0.1:8080" },
  },
});
