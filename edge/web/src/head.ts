// What a page puts in <head>: the server writes it into the HTML (crawlers and link previews read it
// there); in the browser the layout keeps document.title in step on client-side navigation.
export interface PageHead {
  title: string;
  description: string;
  /** Path of the canonical URL (the origin is the request's). */
  canonicalPath: string;
  image?: string;
  ogType?: "website" | "product";
  /** schema.org objects, written as application/ld+json. */
  jsonLd?: object[];
}

export interface RouteHandle<Data = unknown> {
  head?: (data: Data) => PageHead;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// JSON inside <script>: "<" escaped so no "</script>" in data can close the element.
export const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

export function headHtml(head: PageHead, origin: string): string {
  const canonical = `${origin}${head.canonicalPath}`;
  return [
    `<title>${escapeHtml(head.title)}</title>`,
    `<meta name="description" content="${escapeHtml(head.description)}">`,
    `<link rel="canonical" href="${escapeHtml(canonical)}">`,
    `<meta property="og:title" content="${escapeHtml(head.title)}">`,
    `<meta property="og:description" content="${escapeHtml(head.description)}">`,
    `<meta property="og:url" content="${escapeHtml(canonical)}">`,
    `<meta property="og:type" content="${head.ogType ?? "website"}">`,
    ...(head.image ? [`<meta property="og:image" content="${escapeHtml(head.image)}">`] : []),
    ...(head.jsonLd ?? []).map((item) => `<script type="application/ld+json">${scriptJson(item)}</script>`),
  ].join("\n    ");
}
