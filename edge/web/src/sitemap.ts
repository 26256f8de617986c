// /sitemap.xml: the public pages a crawler should know — home, every category and every active
// product (keyset pages of the catalog, 100 at a time, up to the sitemap protocol's 50 000 URLs).
import { api } from "./api.ts";

const maxUrls = 50_000;
const escapeXml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function sitemapXml(origin: string): Promise<string> {
  const client = api();
  const paths = ["/"];
  const { categories } = await client.catalog.listCategories({});
  for (const category of categories) paths.push(`/c/${category.id}`);
  let pageToken = "";
  do {
    const page = await client.catalog.listProducts({ pageSize: 100, pageToken });
    for (const product of page.products) paths.push(`/p/${product.slug}`);
    pageToken = page.nextPageToken;
  } while (pageToken && paths.length < maxUrls);
  const urls = paths.slice(0, maxUrls).map((path) => `  <url><loc>${escapeXml(origin + path)}</loc></url>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls.join("\n")}\n</urlset>\n`;
}

/** Private pages stay out of search; the sitemap is announced. */
export const robotsTxt = (origin: string) =>
  ["User-agent: *", ...["/cart", "/checkout", "/order/", "/orders/", "/account", "/sign-in", "/register", "/verify-email", "/reset-password", "/forgot-password"].map((path) => `Disallow: ${path}`), `Sitemap: ${origin}/sitemap.xml`, ""].join("\n");
