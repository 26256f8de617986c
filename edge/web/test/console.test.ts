// The staff console in a real browser, on a private mesh behind an edge serving the pages: an admin
// builds a category and a two-variant product, receives its stock, a shopper buys it in the
// storefront, the admin fulfils and ships it and the shopper's order reads SHIPPED; a customer cannot
// open the console; a stale edit shows the conflict; the storefront never loads the console's code;
// promotions are edited (item conditions and actions, a stale edit refused) and apply in a cart as
// edited; a customer's session is revoked; a product's weight, dimensions and tags are set; the
// notification log lists what the shop sent; behind a second edge that finds no notification service,
// its section is hidden.
// Any console error, uncaught exception or failed request fails a test unless the test expects it —
// and at sign-in behind that second edge the console's probe of the absent service fails by design (503).
import test from "ava";
import path from "node:path";
import type { Page } from "playwright-core";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createBazaarClient, type BazaarClient, type GuestCart } from "@bazaar/client";
import { ProductStatus } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { ErrorInfoSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { Role } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import type { Notification } from "@bazaar/contracts/bazaar/notification/v1/notification_pb";
import { PromotionService } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { currentTotp } from "@bazaar/identity";
import { createWebPages, defaultDistDir } from "@bazaar/web";
import { consoleEntry, entryAssets, reachableFiles, readManifest, storefrontEntry } from "../src/assets.ts";
import { eventually, unique } from "../../test/helpers.ts";
import { assertAccessible, openPage as openPageIn, screenshots, startShopWorld, type ShopWorld } from "./pages.ts";


// One test at a time: the whole mesh runs in this process, and parallel browsers starve its Consul
// health checks on a busy machine (services then read as absent).

let world: ShopWorld;

test.before(async () => {
  world = await startShopWorld({ adminName: "Grace Staff", notification: true });
});

test.after.always(async () => {
  await world?.stop();
});

const openPage = (width?: number) => openPageIn(world.browser, width);

/** The promotion service's staff methods on a client's session (@bazaar/client has no promotion client). */
const promotionsOf = (client: BazaarClient) => createClient(PromotionService, client.transport);

/** Client-side navigation to a console path, as a link would (a page load would ask to sign in again). */
async function go(page: Page, pathname: string): Promise<void> {
  await page.evaluate(`window.history.pushState({}, "", ${JSON.stringify(pathname)}); window.dispatchEvent(new PopStateEvent("popstate"));`);
}

/** The console's probe at sign-in of the notification service behind the edge that finds none: the one failure expected. */
const absentProbe = [/^503 .*\/bazaar\.notification\.v1\.NotificationService\/ListNotifications$/, /status of 503/];

/** What went wrong in a console page besides the absent service's probe and the `expected` refusals. */
const unexpected = (errors: string[], ...expected: RegExp[]) => errors.filter((e) => ![...absentProbe, ...expected].some((pattern) => pattern.test(e)));

async function signInToConsole(page: Page, email: string, password: string, origin = world.url): Promise<void> {
  await page.goto(`${origin}/admin`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const nav = (page: Page, section: string) => page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: section, exact: true }).click();

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(screenshots, `console-${name}.png`), fullPage: true });

/** Clicks "Refresh" on an order page until `ready` shows (shipping and order follow events). */
async function refreshUntil(page: Page, ready: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    if (await ready()) return;
    await page.waitForTimeout(500);
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.getByRole("button", { name: "Refresh" }).and(page.locator(":enabled")).waitFor();
  }
  throw new Error("the order page never showed what was awaited");
}

test.serial("an admin creates a category and a two-variant product and receives stock; a shopper buys it; the admin packs, labels and ships it; the shopper's order is SHIPPED", async (t) => {
  // One long journey with no test finishing meanwhile: ava's inactivity timeout would cut it off.
  t.timeout(8 * 60_000);
  const { tag } = world;
  const { page, errors } = await openPage();
  await page.goto(`${world.url}/admin`);
  await page.getByRole("heading", { name: "Bazaar staff console" }).waitFor();
  await assertAccessible(t, page, "sign-in");
  await shot(page, "sign-in");
  await signInToConsole(page, world.mesh.adminEmail, world.adminPassword);
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await page.getByText("Grace Staff").waitFor();

  // Categories: a parent and a child.
  await nav(page, "Categories");
  await page.getByRole("heading", { name: "Categories" }).waitFor();
  await page.getByLabel("Name").fill(`Garden ${tag}`);
  await page.getByRole("button", { name: "Create category" }).click();
  await page.getByText(`Created Garden ${tag}.`).waitFor();
  await page.getByLabel("Name").fill(`Watering ${tag}`);
  await page.getByLabel("Parent").selectOption({ label: `Garden ${tag}` });
  await page.getByRole("button", { name: "Create category" }).click();
  await page.getByText(`Created Watering ${tag}.`).waitFor();
  await page.locator("li.depth-1").filter({ hasText: `Watering ${tag}` }).waitFor();
  await assertAccessible(t, page, "categories");
  await shot(page, "categories");

  // A product with two variants, by keyboard-reachable form fields.
  const name = `Brass Watering Can ${tag}`;
  const slug = `brass-can-${tag}`;
  const skus = [`CAN5-${tag.toUpperCase()}`, `CAN9-${tag.toUpperCase()}`];
  await nav(page, "Products");
  await page.getByRole("link", { name: "New product" }).click();
  await page.getByRole("heading", { name: "New product" }).waitFor();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Slug").fill(slug);
  await page.getByLabel("Description").fill("A brass can with a long spout.");
  await page.getByLabel("Brand").fill(`Haws${tag}`);
  await page.getByLabel("Category").selectOption({ label: `— Watering ${tag}` });
  await page.getByLabel("Status").selectOption({ label: "Active (for sale)" });
  await page.getByLabel("Attributes").fill("material=brass");
  await page.getByLabel("Variant 1 SKU").fill(skus[0]!);
  await page.getByLabel("Variant 1 options").fill("volume=5 l");
  await page.getByLabel("Variant 1 prices").fill("USD 34.50, EUR 31.00");
  await page.getByLabel("Variant 1 weight in grams").fill("900");
  await page.getByRole("button", { name: "Add variant" }).click();
  await page.getByLabel("Variant 2 SKU").fill(skus[1]!);
  await page.getByLabel("Variant 2 options").fill("volume=9 l");
  await page.getByLabel("Variant 2 prices").fill("USD 49.00");
  await page.getByLabel("Variant 2 weight in grams").fill("1400");
  await assertAccessible(t, page, "product editor");
  await page.getByRole("button", { name: "Create product" }).click();
  await page.getByRole("heading", { name }).waitFor();
  await shot(page, "product");
  const created = (await world.admin.catalog.getProduct({ slug })).product!;
  t.is(created.status, ProductStatus.ACTIVE);
  t.deepEqual(
    created.variants.map((v) => [v.sku, v.options, v.prices.map((p) => [p.currencyCode, p.amountMinor]).sort(), v.weightGrams]),
    [
      [skus[0], { volume: "5 l" }, [["EUR", 3100n], ["USD", 3450n]], 900n],
      [skus[1], { volume: "9 l" }, [["USD", 4900n]], 1400n],
    ],
  );
  t.deepEqual(created.attributes, { material: "brass" });

  await page.getByRole("link", { name: "All products" }).click();
  await page.getByRole("link", { name }).waitFor();
  await assertAccessible(t, page, "products");
  await shot(page, "products");

  // Stock arrives for both variants.
  await nav(page, "Stock");
  for (const sku of skus) {
    await page.getByLabel("SKU").first().fill(sku);
    await page.getByLabel("Quantity").fill("12");
    await page.getByLabel("Note").first().fill("first delivery");
    await page.getByRole("button", { name: "Receive" }).click();
    await page.getByText(`Received: ${sku} now has 12 on hand at default.`).waitFor();
  }
  // The first can is low at 20: its row is highlighted, and the dashboard lists it.
  await page.getByLabel("SKU").nth(2).fill(skus[0]!);
  await page.getByLabel("Low at (0 = off)").fill("20");
  await page.getByRole("button", { name: "Set threshold" }).click();
  await page.getByText(`${skus[0]} is low at 20 available.`).waitFor();
  await page.getByRole("row").filter({ hasText: skus[0] }).getByText("Low stock").waitFor();
  await page.getByRole("button", { name: skus[0] }).click();
  await page.getByRole("heading", { name: `Movements of ${skus[0]}` }).waitFor();
  await page.getByRole("cell", { name: "first delivery" }).waitFor();
  await assertAccessible(t, page, "stock");
  await shot(page, "stock");

  // The shopper finds it in the storefront and buys the 9 l can as a guest.
  const shopper = await openPage();
  const shop = shopper.page;
  await shop.goto(`${world.url}/p/${slug}`);
  await shop.getByRole("heading", { name }).waitFor();
  await shop.getByLabel(/volume: 9 l/).check();
  await shop.getByRole("button", { name: "Add to cart" }).click();
  await shop.getByText("Added to your cart.").waitFor();
  await shop.goto(`${world.url}/checkout`);
  const email = `shopper-${tag}@example.com`;
  await shop.getByLabel("Email").fill(email);
  await shop.getByLabel("Full name").fill("Ada Lovelace");
  await shop.getByLabel("Address").fill("1 Main Street");
  await shop.getByLabel("City").fill("Springfield");
  await shop.getByLabel("State / region").fill("IL");
  await shop.getByLabel("Postal code").fill("62701");
  await shop.getByRole("button", { name: "Show shipping options" }).click();
  await shop.getByRole("radio", { name: /Standard/i }).check();
  await shop.getByText("calculated at checkout").waitFor({ state: "detached" });
  await shop.getByLabel("Card number").fill("4242 4242 4242 4242");
  // The guest proves the order is theirs with the cart's token (the storefront forgets it after ordering).
  const guestCart = JSON.parse((await shop.evaluate<string | null>("window.localStorage.getItem('bazaar.guestCart')")) ?? "null") as GuestCart;
  await shop.getByRole("button", { name: "Place order" }).click();
  await shop.getByRole("heading", { name: "Thank you for your order" }).waitFor({ timeout: 30_000 });
  const orderId = (await shop.getByTestId("order-id").textContent()) ?? "";
  t.deepEqual(shopper.errors, [], "no errors in the storefront");

  // The admin finds the order by the shopper's email and fulfils it.
  await nav(page, "Orders");
  await page.getByLabel("Email, order id or SKU").fill(email);
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByRole("link", { name: `Order ${orderId}` }).waitFor();
  t.is(await page.locator("tbody tr").count(), 1, "one order for the shopper");
  await assertAccessible(t, page, "orders");
  await shot(page, "orders");
  // By keyboard: focus the order's link and press Enter.
  await page.getByRole("link", { name: `Order ${orderId}` }).focus();
  await page.keyboard.press("Enter");
  await page.getByTestId("order-status").waitFor();
  await page.getByRole("cell", { name: skus[1] }).waitFor();
  // The payment's operations and the (empty) returns are on the order's page.
  await page.getByRole("cell", { name: "CAPTURE", exact: true }).waitFor();
  await page.getByText("No returns.").waitFor();
  const packButton = page.getByRole("button", { name: "Pack", exact: true });
  await refreshUntil(page, () => packButton.isVisible());
  await assertAccessible(t, page, "order detail");
  await shot(page, "order");
  await packButton.click();
  await page.getByRole("button", { name: "Buy label" }).click();
  await page.getByRole("button", { name: "Ship", exact: true }).click();
  await page.getByTestId("shipment-status").filter({ hasText: "IN TRANSIT" }).waitFor();
  await page.getByRole("link", { name: /^TEST/ }).waitFor();
  // The order follows ShipmentShipped.
  await refreshUntil(page, async () => (await page.getByTestId("order-status").textContent()) === "SHIPPED");
  await shot(page, "order-shipped");

  const asShopper = createBazaarClient({ baseUrl: world.url, guestCart, useHttpGet: false });
  const seen = await asShopper.orders.getOrder({ orderId });
  t.is(seen.order?.status, OrderStatus.SHIPPED, "the shopper's order is SHIPPED");
  t.deepEqual(seen.order?.lines.map((l) => [l.sku, l.quantity]), [[skus[1], 1]]);

  await nav(page, "Dashboard");
  await page.getByTestId("orders-today").waitFor();
  t.regex((await page.getByTestId("orders-today").textContent()) ?? "", /^[1-9]/, "today's order is counted");
  t.regex((await page.getByTestId("low-stock").textContent()) ?? "", new RegExp(`${skus[0]}: 12 available \\(low at 20\\)`));
  t.false((await page.getByTestId("low-stock").textContent())!.includes(skus[1]!), "the other can has no threshold");
  await assertAccessible(t, page, "dashboard");
  await shot(page, "dashboard");
  // Until shipping has made the order's shipment, ListOrderShipments answers not_found (the page says "No shipment yet").
  t.deepEqual(unexpected(errors, /^404 .*ListOrderShipments$/, /status of 404/), [], "no console errors or failed requests in the console");
});

test.serial("a customer account cannot open the console: the API refuses its admin calls and the page says so", async (t) => {
  const email = `customer-${world.tag}@example.com`;
  const password = `Cust0mer-${unique("pw")}`;
  const customer = createBazaarClient({ baseUrl: world.url, useHttpGet: false });
  await customer.identity.register({ email, password, displayName: "Carl Customer" });
  await customer.signIn(email, password);
  const refused = await t.throwsAsync(customer.catalog.createCategory({ category: { name: "Nope", slug: `nope-${world.tag}` } }));
  t.is((refused as ConnectError).code, Code.PermissionDenied, "the API refuses a customer");

  const { page, errors } = await openPage();
  await signInToConsole(page, email, password);
  const alert = page.getByRole("alert");
  await alert.waitFor();
  t.regex((await alert.textContent()) ?? "", /This account cannot open the staff console\. The API refused: .*admin/);
  t.is(await page.getByRole("navigation", { name: "Sections" }).count(), 0, "no console behind the refusal");
  await assertAccessible(t, page, "refused sign-in");
  // The refusal itself is the one failed request.
  t.deepEqual(errors.filter((e) => !/^403 .*ListUsers$/.test(e) && !/status of 403/.test(e)), []);

  // A wrong password is refused too, in words.
  await page.getByLabel("Email").fill(world.mesh.adminEmail);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "Refused:" }).waitFor();
});

test.serial("an edit made on a stale version is refused with 'changed by someone else — reload', and the reload shows the current product", async (t) => {
  const { tag, admin } = world;
  const category = (await admin.catalog.createCategory({ category: { name: `Tools ${tag}`, slug: `tools-${tag}` } })).category!;
  const product = (
    await admin.catalog.createProduct({
      product: { slug: `trowel-${tag}`, name: `Trowel ${tag}`, status: ProductStatus.DRAFT, categoryId: category.id, variants: [{ sku: `TRW-${tag.toUpperCase()}`, prices: [{ currencyCode: "USD", amountMinor: 1200n }] }] },
    })
  ).product!;
  const { page, errors } = await openPage();
  await signInToConsole(page, world.mesh.adminEmail, world.adminPassword);
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await nav(page, "Products");
  await page.getByLabel("Status").selectOption({ label: "DRAFT" });
  await page.getByRole("link", { name: `Trowel ${tag}` }).click();
  await page.getByRole("heading", { name: `Trowel ${tag}` }).waitFor();

  // Someone else renames it meanwhile.
  await admin.catalog.updateProduct({ product: { id: product.id, etag: product.etag, name: `Hand Trowel ${tag}` }, updateMask: { paths: ["name"] } });

  await page.getByLabel("Name").fill(`Garden Trowel ${tag}`);
  await page.getByRole("button", { name: "Save changes" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  t.regex((await alert.textContent()) ?? "", /Changed by someone else — reload/);
  await shot(page, "conflict");
  await assertAccessible(t, page, "conflict");
  t.is((await admin.catalog.getProduct({ id: product.id })).product!.name, `Hand Trowel ${tag}`, "the stale edit changed nothing");

  await alert.getByRole("button", { name: "Reload" }).click();
  await page.getByRole("heading", { name: `Hand Trowel ${tag}` }).waitFor();
  t.is(await page.getByLabel("Name").inputValue(), `Hand Trowel ${tag}`);
  // Made again on the current version, the edit is saved.
  await page.getByLabel("Name").fill(`Garden Trowel ${tag}`);
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { name: `Garden Trowel ${tag}` }).waitFor();
  t.is((await admin.catalog.getProduct({ id: product.id })).product!.name, `Garden Trowel ${tag}`);
  t.deepEqual(unexpected(errors, /^409 .*UpdateProduct$/, /status of 409/), [], "only the refused save failed");
});

test.serial("the storefront never loads the console's code, and the console's page is a shell with no data and a strict CSP", async (t) => {
  const manifest = readManifest(defaultDistDir)!;
  const storefront = entryAssets(manifest, storefrontEntry)!;
  const staff = entryAssets(manifest, consoleEntry)!;
  // The console's own: what it loads that no storefront page ever loads (chunks the two share, such as
  // the order service's descriptors the checkout loads on demand, are not the console's).
  const storefrontEver = reachableFiles(manifest, storefrontEntry);
  const consoleOnly = staff.files.filter((file) => !storefrontEver.includes(file));
  t.true(consoleOnly.length > 0, "the console has code of its own");

  const { page, errors } = await openPage();
  const scripts: string[] = [];
  page.on("request", (request) => {
    if (request.resourceType() === "script") scripts.push(new URL(request.url()).pathname.slice(1));
  });
  for (const pathname of ["/", "/cart", "/checkout", `/search?q=can`]) {
    const html = await (await fetch(`${world.url}${pathname}`)).text();
    for (const file of consoleOnly) t.false(html.includes(file), `${pathname} names no console chunk`);
    await page.goto(`${world.url}${pathname}`);
    await page.waitForLoadState("networkidle");
  }
  t.true(scripts.length > 0, "the storefront loaded its scripts");
  t.deepEqual(scripts.filter((file) => consoleOnly.includes(file)), [], "no console chunk was loaded");
  t.deepEqual(errors, []);

  const shell = await fetch(`${world.url}/admin/orders`);
  t.is(shell.status, 200);
  const csp = shell.headers.get("content-security-policy") ?? "";
  t.regex(csp, /script-src 'self'(;|$)/, "no inline script allowed");
  const html = await shell.text();
  t.true(html.includes(staff.script), "the shell loads the console entry");
  t.false(html.includes(storefront.script), "and not the storefront's");
  t.regex(html, /<div id="root"><\/div>/, "no one's data in the HTML");
});

test.serial("an admin with MFA is asked for the code, then manages accounts, promotions with generated codes, a CSV import with its report, and the returns queue", async (t) => {
  t.timeout(6 * 60_000);
  const { tag, admin } = world;
  // A second staff account with MFA enrolled, and a customer to manage.
  const email = `ops-${tag}@example.com`;
  const password = `0ps-${unique("pw")}`;
  const ops = createBazaarClient({ baseUrl: world.url, useHttpGet: false });
  const registered = (await ops.identity.register({ email, password, displayName: "Olive Ops" })).user!;
  await admin.identity.setUserRoles({ userId: registered.id, roles: [Role.CUSTOMER, Role.ADMIN] });
  await ops.signIn(email, password);
  const { secret } = await ops.identity.enrollMfa({});
  // The previous step's code confirms; the sign-in below uses the current one (each is accepted once).
  await ops.identity.confirmMfa({ code: currentTotp(secret, Date.now() - 30_000) });
  const customerEmail = `managed-${tag}@example.com`;
  await admin.identity.register({ email: customerEmail, password: `Cust0mer-${unique("pw")}`, displayName: "Mia Managed" });

  const { page, errors } = await openPage();
  await signInToConsole(page, email, password);
  await page.getByLabel("Authentication code").waitFor();
  await assertAccessible(t, page, "MFA step");
  await page.getByLabel("Authentication code").fill(currentTotp(secret));
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await page.getByText("Olive Ops").waitFor();

  // Customers: find, disable (confirmed), enable.
  await nav(page, "Customers");
  await page.getByLabel("Email contains").fill(`managed-${tag}`);
  await page.getByRole("button", { name: "Find" }).click();
  const row = page.getByRole("row").filter({ hasText: customerEmail });
  await row.getByRole("cell", { name: "active", exact: true }).waitFor();
  await row.getByRole("button", { name: `Disable ${customerEmail}` }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Keep it" }).waitFor();
  await assertAccessible(t, page, "confirm dialog");
  await dialog.getByRole("button", { name: "Disable account" }).click();
  await row.getByRole("cell", { name: "disabled", exact: true }).waitFor();
  t.true((await admin.identity.listUsers({ query: customerEmail })).users[0]!.disabled, "the account is disabled");
  await shot(page, "customers");
  await assertAccessible(t, page, "customers");
  await row.getByRole("button", { name: `Enable ${customerEmail}` }).click();
  await row.getByRole("cell", { name: "active", exact: true }).waitFor();
  t.false((await admin.identity.listUsers({ query: customerEmail })).users[0]!.disabled, "and enabled again");

  // Promotions: one with generated single-use codes, three codes made and offered as CSV.
  await nav(page, "Promotions");
  await page.getByLabel("Name").fill(`Spring ${tag}`);
  await page.getByLabel("Applies", { exact: true }).selectOption({ label: "With generated single-use codes" });
  await page.getByLabel("Percent off").fill("10");
  await page.getByRole("button", { name: "Create promotion" }).click();
  await page.getByText(`Created Spring ${tag}.`).waitFor();
  await page.getByRole("link", { name: `Spring ${tag}`, exact: true }).click();
  await page.getByRole("heading", { name: `Spring ${tag}` }).waitFor();
  await page.getByLabel("Prefix").fill("SPR");
  await page.getByLabel("How many").fill("3");
  await page.getByRole("button", { name: "Generate codes" }).click();
  await page.getByRole("link", { name: "Export 3 codes (CSV)" }).waitFor();
  const codes = page.getByRole("cell", { name: /^SPR/ });
  await codes.nth(2).waitFor();
  t.is(await codes.count(), 3, "the three codes are listed");
  await shot(page, "promotions");
  await assertAccessible(t, page, "promotions");

  // CSV import: a dry run, then the import, each with its per-line report.
  const imports = (await admin.catalog.createCategory({ category: { name: `Imports ${tag}`, slug: `imports-${tag}` } })).category!;
  const csv = [
    "slug,name,category,status,sku,options,prices,weight_grams",
    `hose-${tag},Garden Hose ${tag},${imports.slug},active,HOSE-${tag.toUpperCase()},length=20 m,USD:2599|EUR:2399,2100`,
    `rake-${tag},Rake ${tag},${imports.slug},active,RAKE-${tag.toUpperCase()},,USD:0,800`,
  ].join("\n");
  await nav(page, "Products");
  await page.getByRole("link", { name: "Import CSV" }).click();
  await page.getByLabel("Or paste it").fill(csv);
  await page.getByLabel("Only check it (change nothing)").check();
  await page.getByRole("button", { name: "Import" }).click();
  await page.getByText("Would create 1, would update 0, rejected 1.").waitFor();
  t.is((await admin.catalog.listProducts({ filter: { categoryId: imports.id } })).products.length, 0, "a dry run changes nothing");
  await page.getByLabel("Only check it (change nothing)").uncheck();
  await page.getByRole("button", { name: "Import" }).click();
  await page.getByText("Created 1, updated 0, rejected 1.").waitFor();
  const rejected = page.getByRole("table", { name: "Rejected lines" }).getByRole("row").nth(1);
  t.is(await rejected.getByRole("cell").first().textContent(), "3", "the rake's line is reported");
  t.regex((await rejected.textContent()) ?? "", /USD amount must be between 1/);
  t.deepEqual((await admin.catalog.listProducts({ filter: { categoryId: imports.id } })).products.map((p) => p.slug), [`hose-${tag}`]);
  await shot(page, "import");
  await assertAccessible(t, page, "import report");

  // Returns: the queue of requested returns.
  await nav(page, "Returns");
  await page.getByRole("heading", { name: "Returns" }).waitFor();
  await page.getByLabel("Status").selectOption({ label: "REQUESTED" });
  await page.getByText("No returns in this state.").waitFor();
  await assertAccessible(t, page, "returns");
  t.deepEqual(unexpected(errors), []);
});

test.serial("an admin edits a promotion into half off one SKU when the cart holds two of the product; a cart gets exactly that; an edit on a stale version is refused with 'changed by someone else — reload'", async (t) => {
  t.timeout(5 * 60_000);
  const { tag, admin } = world;
  const category = (await admin.catalog.createCategory({ category: { name: `Lamps ${tag}`, slug: `lamps-${tag}` } })).category!;
  const skus = { big: `LAMPL-${tag.toUpperCase()}`, small: `LAMPS-${tag.toUpperCase()}` };
  const product = (
    await admin.catalog.createProduct({
      product: {
        slug: `lamp-${tag}`, name: `Desk Lamp ${tag}`, status: ProductStatus.ACTIVE, categoryId: category.id,
        variants: [
          { sku: skus.big, options: { size: "large" }, prices: [{ currencyCode: "USD", amountMinor: 2000n }] },
          { sku: skus.small, options: { size: "small" }, prices: [{ currencyCode: "USD", amountMinor: 1000n }] },
        ],
      },
    })
  ).product!;
  for (const sku of Object.values(skus)) await admin.inventory.receiveStock({ sku, quantity: 10n, note: "for the promotion" });
  const code = `LAMP${tag.toUpperCase()}`;
  const created = (
    await promotionsOf(admin).createPromotion({
      promotion: { name: `Lamp week ${tag}`, code, conditions: { everything: true }, action: { kind: { case: "orderPercentOff", value: { percentBps: 1000 } } } },
    })
  ).promotion!;

  const { page, errors } = await openPage();
  await signInToConsole(page, world.mesh.adminEmail, world.adminPassword);
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await nav(page, "Promotions");
  await page.getByRole("link", { name: `Lamp week ${tag}`, exact: true }).click();
  await page.getByRole("heading", { name: `Lamp week ${tag}` }).waitFor();
  t.is(await page.getByLabel("Percent off").inputValue(), "10", "the form shows the promotion as it is");
  // Half off the large lamp, when the cart holds at least two of the product (of any size).
  await page.getByLabel("Discount", { exact: true }).selectOption({ label: "Percent off matching items" });
  await page.getByLabel("Percent off").fill("50");
  await page.getByLabel("Discounted: SKUs").fill(skus.big);
  await page.getByLabel("Cart contains: products").fill(product.slug);
  await page.getByLabel("Minimum quantity").fill("2");
  await assertAccessible(t, page, "promotion editor");
  await page.getByRole("button", { name: "Save promotion" }).click();
  await page.getByRole("status").filter({ hasText: `Saved Lamp week ${tag}.` }).waitFor();
  await shot(page, "promotion-edit");
  const edited = (await promotionsOf(admin).getPromotion({ promotionId: created.id })).promotion!;
  t.not(edited.etag, created.etag);
  t.is(edited.action?.kind.case, "itemsOff");
  t.like(edited.action?.kind.value, { percentBps: 5000, items: { skus: [skus.big], productIds: [], categoryIds: [] } });
  t.like(edited.conditions, { everything: false, minimumQuantity: 2, items: { skus: [], productIds: [product.id], categoryIds: [] } });
  t.is(edited.code, code, "how it applies is kept");
  // The form reads it back: the product by its slug.
  t.is(await page.getByLabel("Cart contains: products").inputValue(), product.slug);

  // In a cart: one lamp does not meet the condition; two do, and only the large one's units are halved.
  const shopper = createBazaarClient({ baseUrl: world.url, useHttpGet: false });
  const cart = (await shopper.cart.createCart({ currencyCode: "USD" })).cart!;
  await shopper.cart.addCartItem({ cartId: cart.id, sku: skus.big, quantity: 1 });
  const notYet = ConnectError.from(await t.throwsAsync(shopper.cart.applyPromotionCode({ cartId: cart.id, code })));
  t.is(notYet.findDetails(ErrorInfoSchema)[0]?.reason, "PROMOTION_NOT_APPLICABLE", "one unit of the product is not enough");
  await shopper.cart.addCartItem({ cartId: cart.id, sku: skus.small, quantity: 1 });
  await shopper.cart.addCartItem({ cartId: cart.id, sku: skus.big, quantity: 1 });
  const applied = (await shopper.cart.applyPromotionCode({ cartId: cart.id, code })).cart!;
  t.is(applied.totals?.discount?.amountMinor, 2000n, "half of two large lamps at $20.00; the small one is not discounted");
  t.deepEqual(applied.totals?.promotions.map((p) => [p.promotionId, p.allocations.map((a) => [a.sku, a.amountMinor])]), [[created.id, [[skus.big, 2000n]]]]);

  // Someone else renames it meanwhile; the console's edit, made on the version it read, is refused.
  await promotionsOf(admin).updatePromotion({ promotion: { id: created.id, name: `Lamp fortnight ${tag}` }, updateMask: { paths: ["name"] }, etag: edited.etag });
  await page.getByLabel("Percent off").fill("40");
  await page.getByRole("button", { name: "Save promotion" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  t.regex((await alert.textContent()) ?? "", /Changed by someone else — reload/);
  await assertAccessible(t, page, "promotion conflict");
  await shot(page, "promotion-conflict");
  const untouched = (await promotionsOf(admin).getPromotion({ promotionId: created.id })).promotion!;
  t.is(untouched.name, `Lamp fortnight ${tag}`);
  t.like(untouched.action?.kind.value, { percentBps: 5000 }, "the stale edit changed nothing");
  await alert.getByRole("button", { name: "Reload" }).click();
  await page.getByRole("heading", { name: `Lamp fortnight ${tag}` }).waitFor();
  t.is(await page.getByLabel("Percent off").inputValue(), "50");
  await page.getByLabel("Percent off").fill("40");
  await page.getByRole("button", { name: "Save promotion" }).click();
  await page.getByRole("status").filter({ hasText: `Saved Lamp fortnight ${tag}.` }).waitFor();
  const saved = (await promotionsOf(admin).getPromotion({ promotionId: created.id })).promotion!;
  t.like(saved.action?.kind.value, { percentBps: 4000, items: { skus: [skus.big] } });
  t.is(saved.name, `Lamp fortnight ${tag}`, "the other person's change stays");
  t.is((await shopper.cart.getCart({ cartId: cart.id })).cart?.totals?.discount?.amountMinor, 1600n, "the cart follows the edit: 40 % of $40.00");
  t.deepEqual(unexpected(errors, /^409 .*UpdatePromotion$/, /status of 409/), [], "only the refused save failed");
});

test.serial("an admin creates a buy-2-get-1-free promotion on a category in the form, and a cart gets the cheapest unit free", async (t) => {
  const { tag, admin } = world;
  const category = (await admin.catalog.createCategory({ category: { name: `Mugs ${tag}`, slug: `mugs-${tag}` } })).category!;
  const skus = [`MUGA-${tag.toUpperCase()}`, `MUGB-${tag.toUpperCase()}`];
  await admin.catalog.createProduct({
    product: {
      slug: `mug-${tag}`, name: `Mug ${tag}`, status: ProductStatus.ACTIVE, categoryId: category.id,
      variants: [
        { sku: skus[0]!, options: { colour: "blue" }, prices: [{ currencyCode: "USD", amountMinor: 900n }] },
        { sku: skus[1]!, options: { colour: "red" }, prices: [{ currencyCode: "USD", amountMinor: 700n }] },
      ],
    },
  });
  for (const sku of skus) await admin.inventory.receiveStock({ sku, quantity: 10n, note: "mugs" });
  const { page, errors } = await openPage();
  await signInToConsole(page, world.mesh.adminEmail, world.adminPassword);
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await nav(page, "Promotions");
  await page.getByLabel("Name").fill(`Mug trio ${tag}`);
  await page.getByLabel("Applies", { exact: true }).selectOption({ label: "Automatically" });
  await page.getByLabel("Discount", { exact: true }).selectOption({ label: "Buy X get Y" });
  await page.getByLabel("Buy quantity").fill("2");
  await page.getByLabel("Get quantity").fill("1");
  await page.getByLabel("Bought: categories").selectOption({ label: `Mugs ${tag}` });
  await assertAccessible(t, page, "buy X get Y form");
  await page.getByRole("button", { name: "Create promotion" }).click();
  await page.getByText(`Created Mug trio ${tag}.`).waitFor();
  const promotion = (await promotionsOf(admin).listPromotions({ pageSize: 50 })).promotions.find((p) => p.name === `Mug trio ${tag}`)!;
  t.true(promotion.automatic);
  t.is(promotion.action?.kind.case, "buyXGetY");
  t.like(promotion.action?.kind.value, { buyQuantity: 2, getQuantity: 1, percentBps: 10_000, buy: { categoryIds: [category.id] } });
  t.true(promotion.conditions?.everything, "no condition was set, which the API wants said");

  const shopper = createBazaarClient({ baseUrl: world.url, useHttpGet: false });
  const cart = (await shopper.cart.createCart({ currencyCode: "USD" })).cart!;
  await shopper.cart.addCartItem({ cartId: cart.id, sku: skus[0]!, quantity: 2 });
  const two = (await shopper.cart.addCartItem({ cartId: cart.id, sku: skus[1]!, quantity: 1 })).cart!;
  t.is(two.totals?.discount?.amountMinor, 700n, "three mugs: the cheapest ($7.00) is free");
  t.deepEqual(unexpected(errors), []);
});

test.serial("an admin revokes a customer's session: its refresh token stops working", async (t) => {
  const { tag, admin } = world;
  const email = `sessions-${tag}@example.com`;
  const password = `S3ssion-${unique("pw")}`;
  const customer = createBazaarClient({ baseUrl: world.url, useHttpGet: false });
  const user = (await customer.identity.register({ email, password, displayName: "Sam Session" })).user!;
  const { tokens } = await customer.identity.login({ email, password });
  t.truthy(tokens?.refreshToken);

  const { page, errors } = await openPage();
  await signInToConsole(page, world.mesh.adminEmail, world.adminPassword);
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await nav(page, "Customers");
  await page.getByLabel("Email contains").fill(`sessions-${tag}`);
  await page.getByRole("button", { name: "Find" }).click();
  await page.getByRole("button", { name: `Sessions of ${email}` }).click();
  await page.getByRole("heading", { name: `Sessions of ${email}` }).waitFor();
  const row = page.getByRole("row").filter({ hasText: tokens!.sessionId });
  await row.waitFor();
  await assertAccessible(t, page, "sessions");
  await shot(page, "sessions");
  await row.getByRole("button", { name: "Revoke session 1" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke session" }).click();
  await page.getByRole("status").filter({ hasText: "Revoked:" }).waitFor();
  await page.getByRole("cell", { name: "No active sessions." }).waitFor();

  t.deepEqual((await admin.identity.listSessions({ userId: user.id })).sessions, [], "identity lists no session");
  const refused = ConnectError.from(await t.throwsAsync(customer.identity.refreshToken({ refreshToken: tokens!.refreshToken })));
  t.is(refused.code, Code.Unauthenticated, "the revoked session cannot refresh");
  t.deepEqual(unexpected(errors), []);
});

test.serial("an admin sets a variant's weight and dimensions and the product's tags in the editor", async (t) => {
  const { tag, admin } = world;
  const category = (await admin.catalog.createCategory({ category: { name: `Vases ${tag}`, slug: `vases-${tag}` } })).category!;
  const product = (
    await admin.catalog.createProduct({
      product: { slug: `vase-${tag}`, name: `Vase ${tag}`, status: ProductStatus.DRAFT, categoryId: category.id, variants: [{ sku: `VASE-${tag.toUpperCase()}`, prices: [{ currencyCode: "USD", amountMinor: 3900n }] }] },
    })
  ).product!;
  t.is(product.variants[0]!.weightGrams, 0n);
  const { page, errors } = await openPage();
  await signInToConsole(page, world.mesh.adminEmail, world.adminPassword);
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await go(page, `/admin/products/${product.id}`);
  await page.getByRole("heading", { name: `Vase ${tag}` }).waitFor();
  await page.getByLabel("Variant 1 weight in grams").fill("750");
  await page.getByLabel("Variant 1 dimensions in mm").fill("300 x 200 x 150");
  await page.getByLabel("Tags").fill("gift, glass");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  const saved = (await admin.catalog.getProduct({ id: product.id })).product!;
  t.is(saved.variants[0]!.weightGrams, 750n);
  t.like(saved.variants[0]!.dimensions, { lengthMm: 300, widthMm: 200, heightMm: 150 });
  t.deepEqual(saved.tags, ["gift", "glass"]);
  // The editor shows them again after the save's reload.
  await page.getByLabel("Variant 1 dimensions in mm").and(page.locator('[value="300 x 200 x 150"]')).waitFor();
  t.is(await page.getByLabel("Tags").inputValue(), "gift, glass");
  // Bad dimensions are refused in words, and change nothing.
  await page.getByLabel("Variant 1 dimensions in mm").fill("30 by 20");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("alert").filter({ hasText: "Variant 1 dimensions" }).waitFor();
  t.like((await admin.catalog.getProduct({ id: product.id })).product!.variants[0]!.dimensions, { lengthMm: 300 });
  t.deepEqual(unexpected(errors), []);
});

test.serial("the notification log lists the messages the shop made, with their status, attempts and last error", async (t) => {
  const { page, errors } = await openPage();
  await signInToConsole(page, world.mesh.adminEmail, world.adminPassword);
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await nav(page, "Notifications");
  await page.getByRole("heading", { name: "Notifications" }).waitFor();
  // The admin's own registration made a verification email (the test mesh's mail goes to a closed port,
  // so it waits to be retried, its last error shown).
  const row = page.getByRole("row").filter({ hasText: world.mesh.adminEmail }).filter({ hasText: "email-verification" });
  await row.first().waitFor();
  // Newest first, and the file's earlier tests made messages of their own: look through every page.
  let made: Notification | undefined;
  let pageToken = "";
  do {
    const listed = await world.admin.notifications.listNotifications({ pageSize: 100, pageToken });
    made = listed.notifications.find((n) => n.recipient === world.mesh.adminEmail && n.template === "email-verification");
    pageToken = listed.nextPageToken;
  } while (!made && pageToken);
  t.truthy(made, "the API lists the same message");
  t.true((await row.first().textContent())!.includes(made!.subject), "with its subject");
  await shot(page, "notifications");
  await assertAccessible(t, page, "notification log");
  t.deepEqual(unexpected(errors), []);
});

test.serial("a section whose service is absent from the mesh is hidden: no Notifications entry, and its address says it is not available", async (t) => {
  // A second edge of the same mesh that looks for the notification service under a name no one
  // registers (not "notification", which a mesh running on this machine may have in Consul).
  let bare = "";
  ({ url: bare } = await world.mesh.edge({ pages: createWebPages({ apiBaseUrl: () => bare }), upstreams: { ...world.mesh.names, notification: unique("notification-absent") } }));
  const { page, errors } = await openPage();
  await signInToConsole(page, world.mesh.adminEmail, world.adminPassword, bare);
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  const sections = page.getByRole("navigation", { name: "Sections" });
  t.deepEqual(
    await sections.getByRole("link").allTextContents(),
    ["Dashboard", "Orders", "Products", "Categories", "Stock", "Returns", "Promotions", "Customers"],
    "every service of the mesh has its section; the notification service has none",
  );
  // That edge answers the notification service's calls UNAVAILABLE: it finds none.
  const elsewhere = createBazaarClient({ baseUrl: bare, useHttpGet: false });
  await elsewhere.signIn(world.mesh.adminEmail, world.adminPassword);
  const absent = ConnectError.from(await t.throwsAsync(elsewhere.notifications.listNotifications({ pageSize: 1 })));
  t.is(absent.code, Code.Unavailable);
  // An address typed by hand: a notice, not a broken page.
  await go(page, "/admin/notifications");
  await page.getByRole("heading", { name: "Not available" }).waitFor();
  await page.getByText("This shop runs no notifications service right now").waitFor();
  await assertAccessible(t, page, "absent section");
  t.deepEqual(unexpected(errors), [], "the probe is the only failure");
  t.true(errors.some((e) => absentProbe[0]!.test(e)), "the console did ask the notification service");
});
