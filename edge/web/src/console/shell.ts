// The staff console's page as the server sends it: an empty shell naming the console's own bundle.
// No one's data is in it (the console signs in and reads in the browser), and it has no inline
// script, so its CSP allows scripts from this origin only.
import type { EntryAssets } from "../assets.ts";

/** `/admin` and everything below it. */
export const isConsolePath = (pathname: string) => pathname === "/admin" || pathname.startsWith("/admin/");

export function consoleShell(assets: EntryAssets): { html: string; headers: Record<string, string> } {
  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="robots" content="noindex">
    <link rel="icon" href="/favicon.svg" type="image/svg+xml">
    <title>Bazaar staff console</title>
    ${assets.styles.map((href) => `<link rel="stylesheet" href="${href}">`).join("\n    ")}
  </head>
  <body>
    <div id="root"></div>
    <script type="module" src="${assets.script}"></script>
  </body>
</html>`;
  return {
    html,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-cache",
      "x-robots-tag": "noindex",
      "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'",
    },
  };
}
