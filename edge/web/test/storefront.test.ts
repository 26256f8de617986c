// The storefront in a real browser, on a private mesh behind an edge that serves the pages: the
// server-rendered HTML a crawler reads, and a guest's whole journey from a misspelt search to the
// confirmation, checked against the order service. Any console error or uncaught exception fails.
import test from "ava";
import path from "node:path";
import { ProductStatus } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { PromotionSchema, PromotionService } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createBazaarClient } from "@bazaar/client";
import { assertAccessible, fillCheckout, openPage as openPageIn, screenshots, signInOnPage, startShopWorld, unprovoked, verifiedAccount, type ShopWorld } from "./pages.ts";

interface World extends ShopWorld {
  brand: string;
  product: { id: string; slug: string; name: string; skus: [string, string] };
  categoryId: string;
}
let world: World;

test.before(async () => {
  const shop = await startShopWorld();
  const { admin, tag } = shop;
  const brand = `Lufkin${tag}`;
  const category = (await admin.catalog.createCategory({ category: { name: `Measuring ${tag}`, slug: `measuring-${tag}` } })).category!;
  const skus: [string, string] = [`TAPE5-${tag.toUpperCase()}`, `TAPE8-${tag.toUpperCase()}`];
  const name = `Surveyor Tape ${tag}`;
  const created = await admin.catalog.createProduct({
    product: {
      slug: `surveyor-tape-${tag}`,
      name,
      description: "A steel tape measure with a locking blade.",
      brand,
      categoryId: category.id,
      status: ProductStatus.ACTIVE,
      variants: [
        { sku: skus[0], options: { length: "5 m" }, prices: [{ currencyCode: "USD", amountMinor: 1299n }] },
        { sku: skus[1], options: { length: "8 m" }, prices: [{ currencyCode: "USD", amountMinor: 1799n }] },
      ],
    },
  });
  for (const sku of skus) await admin.inventory.receiveStock({ sku, quantity: 50n, note: "opening stock" });
  world = { ...shop, brand, categoryId: category.id, product: { id: created.product!.id, slug: created.product!.slug, name, skus } };
});

test.after.always(async () => {
  await world?.stop();
});

const openPage = (width?: number) => openPageIn(world.browser, width);

// One test at a time, the review first: the whole mesh runs in this process, and browsers in parallel
// starved its Consul health checks on a busy machine (CI saw the cart read as unavailable).

test.serial("a signed-in shopper writes a review and sees it with the updated rating summary; refusals are shown on the field and in words", async (t) => {
  const { admin, tag } = world;
  // A product of its own, in a category of its own (the other tests count their category's products).
  const name = `Try Square ${tag}`;
  const category = (await admin.catalog.createCategory({ category: { name: `Squares ${tag}`, slug: `squares-${tag}` } })).category!;
  const { product } = await admin.catalog.createProduct({
    product: { slug: `try-square-${tag}`, name, brand: "Starrett", categoryId: category.id, status: ProductStatus.ACTIVE, variants: [{ sku: `SQUARE-${tag.toUpperCase()}`, prices: [{ currencyCode: "USD", amountMinor: 1999n }] }] },
  });
  // An earlier review by someone else (through the API).
  const earlier = await verifiedAccount(world);
  const other = createBazaarClient({ baseUrl: world.url, useHttpGet: false });
  await other.signIn(earlier.email, earlier.password);
  await other.catalog.createReview({ productId: product!.id, rating: 2, title: `Blade not true ${tag}`, body: "Off by half a degree." });

  // The reviews and their summary are in the server's HTML.
  const html = await (await fetch(`${world.url}/p/${product!.slug}`)).text();
  const before = html.slice(0, html.indexOf('<script type="module"'));
  t.true(before.includes(`Blade not true ${tag}`), "the review is server-rendered");
  t.true(before.includes("2.0 out of 5 (1 review)"), "the summary is server-rendered");

  const shopper = await verifiedAccount(world);
  const { page, errors } = await openPage();
  await page.goto(`${world.url}/p/${product!.slug}`);
  await page.getByRole("link", { name: "Sign in to write a review" }).click();
  await signInOnPage(page, shopper.email, shopper.password);
  t.is(new URL(page.url()).pathname, `/p/${product!.slug}`, "back on the product after signing in");
  await page.getByRole("heading", { name: "Write a review" }).waitFor();
  await assertAccessible(t, page, "product page with reviews and the review form");

  // No rating: said on the rating, nothing sent.
  await page.getByRole("button", { name: "Post review" }).click();
  await page.locator("#rating-error").getByText("Choose a rating from 1 to 5 stars.").waitFor();
  // A title the API refuses (over 200 characters): its reason on the title field.
  await page.getByRole("radio", { name: "5 stars" }).check();
  await page.getByLabel("Title (optional)").fill("x".repeat(201));
  await page.getByRole("button", { name: "Post review" }).click();
  const titleError = page.locator("#review-title-error");
  await titleError.waitFor();
  t.is(await titleError.textContent(), "Must be at most 200 characters.");
  t.is(await page.getByLabel("Title (optional)").getAttribute("aria-invalid"), "true");
  await assertAccessible(t, page, "review form with a field error");

  // Meanwhile the same shopper reviews it in another tab; this tab's form is still open.
  const otherTab = await page.context().newPage();
  await otherTab.goto(`${world.url}/p/${product!.slug}`);
  await otherTab.getByRole("radio", { name: "5 stars" }).check();
  await otherTab.getByLabel("Title (optional)").fill(`Square and true ${tag}`);
  await otherTab.getByLabel("Your review (optional)").fill("Checked it against a machinist's square: dead on.");
  await otherTab.getByRole("button", { name: "Post review" }).click();
  await otherTab.getByText("Thank you! Your review is posted.").waitFor();
  t.is(await otherTab.getByTestId("rating-summary").textContent().then((text) => text?.replace(/^[★☆]+\s*/, "")), "3.5 out of 5 (2 reviews)", "the summary counts the new review");
  t.regex((await otherTab.getByTestId("review").first().textContent()) ?? "", new RegExp(`Square and true ${tag}`), "the new review comes first");
  await otherTab.screenshot({ path: path.join(screenshots, "product-reviews-desktop.png"), fullPage: true });
  await otherTab.close();

  // Back in the first tab: a second review of the same product is refused in words.
  await page.getByLabel("Title (optional)").fill("Again");
  await page.getByRole("button", { name: "Post review" }).click();
  await page.getByText("You have reviewed this product already.").waitFor();
  t.is(await page.locator("#review-title-error").count(), 0, "the field error is gone");

  // The catalog holds both, one per shopper, and the product's rating counts them (read with POST: the
  // page's own reads are Connect GETs the edge may serve from its cache for up to 30 s).
  t.deepEqual((await admin.catalog.listReviews({ productId: product!.id })).reviews.map((r) => r.rating), [5, 2], "newest first");
  t.like((await admin.catalog.getProduct({ id: product!.id })).product?.rating, { average: 3.5, count: 2 });
  t.deepEqual(unprovoked(errors, [{ status: 400, method: "CreateReview" }, { status: 409, method: "CreateReview" }]), []);
});

test.serial("the server-rendered product page has its name, price, head tags and JSON-LD before any script runs", async (t) => {
  const response = await fetch(`${world.url}/p/${world.product.slug}`);
  t.is(response.status, 200);
  t.regex(response.headers.get("content-type") ?? "", /text\/html/);
  const html = await response.text();
  const firstModule = html.indexOf('<script type="module"');
  t.true(firstModule > 0, "the client bundle is loaded");
  const before = html.slice(0, firstModule);
  t.true(before.includes(`<h1>${world.product.name}</h1>`), "the name is in the HTML");
  t.true(before.includes("$12.99"), "the price is in the HTML");
  t.true(before.includes(`<title>${world.product.name} — Bazaar</title>`));
  t.true(before.includes(`<link rel="canonical" href="${world.url}/p/${world.product.slug}">`));
  t.true(before.includes('<meta property="og:type" content="product">'));
  const jsonLd = [...before.matchAll(/<script type="application\/ld\+json">(.*?)<\/script>/g)].map((m) => JSON.parse(m[1]!) as { "@type": string; offers?: { sku: string; price: string }[] });
  const product = jsonLd.find((item) => item["@type"] === "Product");
  t.deepEqual(product?.offers?.map((o) => [o.sku, o.price]), [[world.product.skus[0], "12.99"], [world.product.skus[1], "17.99"]]);
  t.truthy(jsonLd.find((item) => item["@type"] === "BreadcrumbList"));
  const missing = await fetch(`${world.url}/p/no-such-product-${world.tag}`);
  t.is(missing.status, 404, "an unknown product is a 404 page");
  t.regex(await missing.text(), /We could not find that page/);
  const api = await fetch(`${world.url}/bazaar.catalog.v1.CatalogService/GetProduct`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id: world.product.id }) });
  t.is(api.status, 200, "the API answers on the same origin");
});

test.serial("sitemap.xml lists home, the categories and the products; robots.txt announces it and keeps private pages out", async (t) => {
  const sitemap = await fetch(`${world.url}/sitemap.xml`);
  t.is(sitemap.status, 200);
  t.regex(sitemap.headers.get("content-type") ?? "", /application\/xml/);
  const xml = await sitemap.text();
  t.true(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'));
  for (const path of ["/", `/c/${world.categoryId}`, `/p/${world.product.slug}`]) t.true(xml.includes(`<loc>${world.url}${path}</loc>`), path);
  const robots = await (await fetch(`${world.url}/robots.txt`)).text();
  t.true(robots.includes(`Sitemap: ${world.url}/sitemap.xml`));
  t.true(robots.includes("Disallow: /account"));
});

test.serial("a guest finds a product by a misspelt search, filters by brand, adds two variants, checks out with a double click and sees one confirmed order", async (t) => {
  const { page, errors } = await openPage();
  await page.goto(`${world.url}/`);
  await assertAccessible(t, page, "home");
  await page.getByLabel("Search products").fill(`survayor tape ${world.tag}`);
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("heading", { name: /Results for/ }).waitFor();
  await page.getByRole("link", { name: new RegExp(`^${world.brand} \\(1\\)$`) }).click();
  await page.waitForURL(/brand=/);
  await assertAccessible(t, page, "search results");
  await page.getByRole("link", { name: world.product.name }).click();
  await page.getByRole("heading", { name: world.product.name }).waitFor();
  await assertAccessible(t, page, "product page");

  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added to your cart.").waitFor();
  await page.getByLabel(/length: 8 m/).check();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added to your cart.").waitFor();
  await page.getByRole("link", { name: "View cart" }).click();
  await page.getByRole("heading", { name: "Your cart" }).waitFor();
  await page.getByRole("row").nth(2).waitFor();
  t.is(await page.getByRole("row").count(), 3, "a header and two lines");
  await page.screenshot({ path: path.join(screenshots, "cart-desktop.png"), fullPage: true });
  await assertAccessible(t, page, "cart");

  await page.getByRole("link", { name: "Checkout" }).click();
  await page.getByLabel("Email").fill(`guest-${world.tag}@example.com`);
  await page.getByLabel("Full name").fill("Ada Lovelace");
  await page.getByLabel("Address").fill("1 Main Street");
  await page.getByLabel("City").fill("Springfield");
  await page.getByLabel("State / region").fill("IL");
  await page.getByLabel("Postal code").fill("62701");
  await page.getByRole("button", { name: "Show shipping options" }).click();
  await page.getByRole("radio", { name: /Standard/i }).check();
  // The quote is in the totals once the cart answers SetCartShipping.
  await page.getByText("calculated at checkout").waitFor({ state: "detached" });
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  const shownTotal = await page.getByTestId("total").textContent();
  await page.screenshot({ path: path.join(screenshots, "checkout-desktop.png"), fullPage: true });
  await assertAccessible(t, page, "checkout");
  await page.getByRole("button", { name: "Place order" }).dblclick();
  await page.getByRole("heading", { name: "Thank you for your order" }).waitFor({ timeout: 30_000 });
  const orderId = (await page.getByTestId("order-id").textContent()) ?? "";
  await page.screenshot({ path: path.join(screenshots, "confirmation-desktop.png"), fullPage: true });
  await assertAccessible(t, page, "confirmation");

  const order = (await world.admin.orders.getOrder({ orderId })).order!;
  t.is(order.email, `guest-${world.tag}@example.com`);
  t.deepEqual(
    order.lines.map((l) => [l.sku, l.quantity]).sort(),
    [[world.product.skus[0], 1], [world.product.skus[1], 1]],
  );
  const totals = order.totals!;
  t.is(totals.subtotal!.amountMinor, 1299n + 1799n);
  t.is(totals.total!.amountMinor, totals.subtotal!.amountMinor - totals.discount!.amountMinor + totals.shipping!.amountMinor + totals.tax!.amountMinor);
  t.true(totals.shipping!.amountMinor > 0n, "the quoted shipping is charged");
  t.is(shownTotal, new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(Number(totals.total!.amountMinor) / 100), "the checkout showed the order's total");
  const mine = await world.admin.orders.listOrders({ pageSize: 100 });
  t.is(mine.orders.filter((o) => o.email === `guest-${world.tag}@example.com`).length, 1, "a double click made one order");
  t.deepEqual(errors, [], "no console errors");
});

test.serial("cart and checkout fit a phone's width", async (t) => {
  const { page, errors } = await openPage(390);
  await page.goto(`${world.url}/p/${world.product.slug}`);
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added to your cart.").waitFor();
  await page.getByRole("link", { name: "View cart" }).click();
  await page.getByRole("row").nth(1).waitFor();
  const overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
  t.is(overflow, 0, "no horizontal scrolling on the cart");
  await page.screenshot({ path: path.join(screenshots, "cart-phone.png"), fullPage: true });
  await page.getByRole("link", { name: "Checkout" }).click();
  await page.getByLabel("Email").waitFor();
  t.is(await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"), 0, "no horizontal scrolling on checkout");
  await page.screenshot({ path: path.join(screenshots, "checkout-phone.png"), fullPage: true });
  t.deepEqual(errors, []);
});

test.serial("category pages page through their products, sort and filter them (kept while paging), and they and the not-found page pass axe", async (t) => {
  const category = (await world.admin.catalog.createCategory({ category: { name: `Levels ${world.tag}`, slug: `levels-${world.tag}` } })).category!;
  // 13 products: one more than a page.
  for (let i = 0; i < 13; i++) {
    await world.admin.catalog.createProduct({
      product: { slug: `level-${i}-${world.tag}`, name: `Spirit Level ${String(i).padStart(2, "0")} ${world.tag}`, categoryId: category.id, status: ProductStatus.ACTIVE, variants: [{ sku: `LVL${i}-${world.tag.toUpperCase()}`, prices: [{ currencyCode: "USD", amountMinor: 999n + BigInt(i) * 100n }] }] },
    });
  }
  const { page, errors } = await openPage();
  await page.goto(`${world.url}/c/${category.id}`);
  await page.getByRole("heading", { name: `Levels ${world.tag}` }).waitFor();
  const firstPage = await page.getByRole("listitem").filter({ hasText: "Spirit Level" }).count();
  t.is(firstPage, 12);
  await assertAccessible(t, page, "category page");
  await page.getByRole("link", { name: "Next page" }).click();
  await page.getByRole("link", { name: "First page" }).waitFor();
  t.is(await page.getByRole("listitem").filter({ hasText: "Spirit Level" }).count(), 1, "the 13th product on the second page");
  t.is(await page.getByRole("link", { name: "Next page" }).count(), 0);

  // Sorted by price, high to low ($21.99 … $9.99): the sort survives paging.
  const levels = page.getByRole("listitem").filter({ hasText: "Spirit Level" });
  await page.goto(`${world.url}/c/${category.id}`);
  await page.getByLabel("Sort by").selectOption({ label: "Price: high to low" });
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/sort=price-desc/);
  await levels.first().filter({ hasText: "Spirit Level 12" }).waitFor();
  t.is(await levels.count(), 12);
  t.regex((await page.getByRole("link", { name: "Next page" }).getAttribute("href")) ?? "", /sort=price-desc.*page=/);
  await page.getByRole("link", { name: "Next page" }).click();
  await page.getByRole("link", { name: "First page" }).waitFor();
  t.deepEqual(await levels.allTextContents().then((texts) => texts.map((text) => /Spirit Level (\d+)/.exec(text)?.[1])), ["00"], "the cheapest last");
  // At most $12: $9.99, $10.99, $11.99 and $12.99, cheapest first.
  await page.getByLabel("Max price ($)").fill("12");
  await page.getByLabel("Sort by").selectOption({ label: "Price: low to high" });
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/max=12/);
  await levels.nth(3).waitFor();
  t.deepEqual(await levels.allTextContents().then((texts) => texts.map((text) => /Spirit Level (\d+)/.exec(text)?.[1])), ["00", "01", "02", "03"]);
  t.is(await page.getByRole("link", { name: "Next page" }).count(), 0);
  await assertAccessible(t, page, "filtered category page");
  const notFound = await page.goto(`${world.url}/nowhere-${world.tag}`);
  t.is(notFound?.status(), 404);
  await page.getByRole("heading", { name: "We could not find that page." }).waitFor();
  await assertAccessible(t, page, "not-found page");
  t.deepEqual(errors.filter((e) => !e.startsWith(`404 ${world.url}/nowhere-`) && !e.includes("status of 404")), []);
});

test.serial("more than the stock and a declined card are refused with a clear message, and the shopper can go on", async (t) => {
  const sku = `SCARCE-${world.tag.toUpperCase()}`;
  const scarce = (
    await world.admin.catalog.createProduct({
      product: { slug: `scarce-${world.tag}`, name: `Scarce Plane ${world.tag}`, categoryId: world.categoryId, status: ProductStatus.ACTIVE, variants: [{ sku, prices: [{ currencyCode: "USD", amountMinor: 4500n }] }] },
    })
  ).product!;
  await world.admin.inventory.receiveStock({ sku, quantity: 2n, note: "two left" });
  const { page, errors } = await openPage();
  const email = `refused-${world.tag}@example.com`;

  await page.goto(`${world.url}/p/${scarce.slug}`);
  await page.getByLabel("Quantity").fill("3");
  await page.getByRole("button", { name: "Add to cart" }).click();
  // Only two are left: the cart refuses three, in words, and the shopper lowers the quantity.
  const refusal = page.getByRole("status").locator(".error");
  await refusal.waitFor();
  t.regex((await refusal.textContent()) ?? "", /stock/i);
  await page.getByLabel("Quantity").fill("2");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added to your cart.").waitFor();
  await page.goto(`${world.url}/checkout`);
  await fillCheckout(page, email, "4000 0000 0000 0002");
  await page.getByRole("button", { name: "Place order" }).click();
  await page.getByText("Your card was declined. Try another card.").waitFor();
  await page.screenshot({ path: path.join(screenshots, "declined-desktop.png"), fullPage: true });
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByRole("button", { name: "Place order" }).click();
  await page.getByRole("heading", { name: "Thank you for your order" }).waitFor({ timeout: 30_000 });
  const orderId = (await page.getByTestId("order-id").textContent()) ?? "";
  const order = (await world.admin.orders.getOrder({ orderId })).order!;
  t.deepEqual(order.lines.map((l) => [l.sku, l.quantity]), [[sku, 2]]);
  // The refusals answer 4xx on purpose; nothing else may fail.
  t.deepEqual(errors.filter((e) => !/^(400|409|412) .*(PlaceOrder|AddCartItem)$/.test(e) && !e.includes("Failed to load resource")), []);
});

test.serial("in the cart a shopper changes a quantity, is told why an unknown promotion code is refused, applies a code and sees its discount, and removes it", async (t) => {
  const code = `SAVE10${world.tag.toUpperCase()}`;
  const promotions = createClient(PromotionService, world.admin.transport);
  await promotions.createPromotion({
    promotion: create(PromotionSchema, {
      name: "10 % off tapes",
      code,
      conditions: { items: { skus: world.product.skus } },
      action: { kind: { case: "orderPercentOff", value: { percentBps: 1000 } } },
    } as MessageInitShape<typeof PromotionSchema>),
  });
  const { page, errors } = await openPage();
  await page.goto(`${world.url}/p/${world.product.slug}`);
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added to your cart.").waitFor();
  await page.getByRole("link", { name: "View cart" }).click();
  const quantity = page.getByLabel(`Quantity of ${world.product.name}`);
  await quantity.fill("10");
  await page.getByRole("button", { name: "Update" }).click();
  await page.locator(`[data-testid="line-total-${world.product.skus[0]}"]`, { hasText: "$129.90" }).waitFor();
  t.is(await page.getByTestId("total").textContent(), "$129.90", "10 × $12.99");

  await page.getByLabel("Promotion code").fill(`NOPE${world.tag}`);
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByText("We do not know that code. Check it and try again.").waitFor();

  await page.getByLabel("Promotion code").fill(code.toLowerCase());
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByText(`Code ${code} applied.`).waitFor();
  t.is(await page.getByTestId("discount").textContent(), "−$12.99", "10 % of $129.90");
  t.true(await page.getByText("10 % off tapes").isVisible(), "the promotion's label is shown with its amount");
  t.is(await page.getByTestId("total").textContent(), "$116.91");
  await page.screenshot({ path: path.join(screenshots, "cart-promotion-desktop.png"), fullPage: true });
  await assertAccessible(t, page, "cart with a promotion code");

  await page.getByRole("button", { name: `Remove code ${code}` }).click();
  await page.getByTestId("discount").waitFor({ state: "detached" });
  t.is(await page.getByTestId("total").textContent(), "$129.90");
  // The unknown code's refusal answers 4xx on purpose; nothing else may fail.
  t.deepEqual(errors.filter((e) => !/^(400|412) .*ApplyPromotionCode$/.test(e) && !e.includes("Failed to load resource")), []);
});
