// A readable page of the API at /docs: static HTML with inline style and its script at /docs.js (no
// CDN, no network; the CSP allows no inline script) that renders /openapi.json — each method, its
// access, its request and response fields.
export const docsHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bazaar API</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 960px; padding: 1rem 2rem; color: #222; }
  h1 { margin-bottom: 0; } h2 { border-bottom: 1px solid #ddd; margin-top: 2rem; }
  details { border: 1px solid #e3e3e3; border-radius: 6px; margin: .5rem 0; padding: .4rem .8rem; }
  summary { cursor: pointer; font-family: ui-monospace, monospace; }
  .verb { display: inline-block; min-width: 3.5em; font-weight: bold; color: #0a5; }
  .access { float: right; font-size: .8em; padding: 0 .5em; border-radius: 4px; background: #eef; }
  table { border-collapse: collapse; width: 100%; font-size: .9em; } td, th { text-align: left; padding: .2em .5em; border-bottom: 1px solid #f0f0f0; }
  code { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>Bazaar API</h1>
<p>Connect JSON over HTTP: <code>POST /&lt;service&gt;/&lt;Method&gt;</code> with a JSON body, or for read-only methods
<code>GET …?connect=v1&amp;encoding=json&amp;message=&lt;url-encoded JSON&gt;</code> (cacheable, with ETag).
gRPC and gRPC-Web work on the same paths. Errors are <code>{"code": "...", "message": "..."}</code>.
The machine-readable document is <a href="/openapi.json">/openapi.json</a>.</p>
<div id="api">Loading…</div>
<script src="/docs.js" defer></script>
</body>
</html>
`;

/** The /docs page's script, served from the edge's own origin (script-src 'self'). */
export const docsScript = `(async () => {
  const doc = await (await fetch("/openapi.json")).json();
  const schemas = doc.components.schemas;
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const typeOf = (s) => !s ? "any" : s.$ref ? s.$ref.split("/").pop() : s.type === "array" ? typeOf(s.items) + "[]" : (s.format ? s.type + " (" + s.format + ")" : s.type || "any");
  const fields = (ref) => {
    const s = ref && ref.$ref ? schemas[ref.$ref.split("/").pop()] : ref;
    if (!s || !s.properties) return "<p><em>" + esc(typeOf(ref)) + "</em></p>";
    const rows = Object.entries(s.properties).map(([k, v]) => "<tr><td><code>" + esc(k) + "</code></td><td>" + esc(typeOf(v)) +
      (v.$ref && schemas[v.$ref.split("/").pop()].enum ? " — " + esc(schemas[v.$ref.split("/").pop()].enum.join(", ")) : "") + "</td></tr>");
    return "<table><tr><th>field</th><th>type</th></tr>" + rows.join("") + "</table>";
  };
  const byTag = {};
  for (const [path, ops] of Object.entries(doc.paths)) {
    const op = ops.post; (byTag[op.tags[0]] ||= []).push([path, ops]);
  }
  let html = "";
  for (const [tag, entries] of Object.entries(byTag)) {
    html += "<h2>" + esc(tag) + "</h2>";
    for (const [path, ops] of entries) {
      const op = ops.post;
      const access = op.description.match(/Access: (\\w+)/)?.[1] ?? "";
      html += "<details><summary><span class='verb'>" + (ops.get ? "GET/POST" : "POST") + "</span> " + esc(path) +
        "<span class='access'>" + esc(access) + "</span></summary><h4>Request</h4>" +
        fields(op.requestBody.content["application/json"].schema) + "<h4>Response</h4>" +
        fields(op.responses["200"].content["application/json"].schema) + "</details>";
    }
  }
  document.getElementById("api").innerHTML = html;
})().catch((e) => { document.getElementById("api").textContent = "Could not load /openapi.json: " + e; });
`;
