// Accounts in a real browser, on a private mesh behind an edge that serves the pages: the edge's
// refresh-token cookie (never in what the page can read), registering and verifying through the
// emailed link, signing in with a guest cart that merges, a reload that stays signed in, the order in
// the account with its history and a return, MFA sign-in, and signing out (cookie cleared, session
// revoked). Any console error or uncaught exception fails a test. Serial: the whole mesh runs in this
// process, and parallel browsers starve its health checks on a busy machine.
import test from "ava";
import { request as httpRequest } from "node:http";
import path from "node:path";
import type { Page } from "playwright-core";
import { TOTP, Secret } from "otpauth";
import { createBazaarClient } from "@bazaar/client";
import { ProductStatus } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { currentTotp } from "@bazaar/identity";
import { NotificationChannel, NotificationTopic } from "@bazaar/contracts/bazaar/notification/v1/notification_pb";
import { eventually, postJson, unique } from "../../test/helpers.ts";
import { assertAccessible, openPage, screenshots, signInOnPage, startShopWorld, strongPassword, unprovoked, verifiedAccount as verifiedAccountIn, type ShopWorld } from "./pages.ts";

const identityPath = "bazaar.identity.v1.IdentityService";

interface World extends ShopWorld {
  product: { slug: string; name: string; skus: [string, string] };
}
let world: World;

test.before(async () => {
  // With the notification service: the unsubscribe link's page calls it.
  const shop = await startShopWorld({ notification: true });
  const { admin, tag } = shop;
  const category = (await admin.catalog.createCategory({ category: { name: `Clamps ${tag}`, slug: `clamps-${tag}` } })).category!;
  const skus: [string, string] = [`CLAMP4-${tag.toUpperCase()}`, `CLAMP6-${tag.toUpperCase()}`];
  const name = `Bar Clamp ${tag}`;
  const created = await admin.catalog.createProduct({
    product: {
      slug: `bar-clamp-${tag}`,
      name,
      brand: "Bessey",
      categoryId: category.id,
      status: ProductStatus.ACTIVE,
      variants: [
        { sku: skus[0], options: { size: "4 in" }, prices: [{ currencyCode: "USD", amountMinor: 2100n }] },
        { sku: skus[1], options: { size: "6 in" }, prices: [{ currencyCode: "USD", amountMinor: 2600n }] },
      ],
    },
  });
  for (const sku of skus) await admin.inventory.receiveStock({ sku, quantity: 50n, note: "opening stock" });
  world = { ...shop, product: { slug: created.product!.slug, name, skus } };
});

test.after.always(async () => {
  await world?.stop();
});

const verifiedAccount = () => verifiedAccountIn(world);

/** Set-Cookie lines of a fetch answer, by cookie name. */
function setCookies(headers: Headers): Map<string, string> {
  return new Map(headers.getSetCookie().map((line) => [line.slice(0, line.indexOf("=")), line]));
}
const cookieValue = (line: string | undefined) => line?.slice(line.indexOf("=") + 1).split(";", 1)[0] ?? "";

test.serial("the edge keeps the refresh token in an httpOnly SameSite=Strict cookie for cookie sessions, rotates it, and clears and revokes it at sign-out", async (t) => {
  const { email, password } = await verifiedAccount();
  const cookieMode = { "x-bazaar-session": "cookie" };

  const login = await postJson(world.url, `${identityPath}/Login`, { email, password }, undefined, cookieMode);
  t.is(login.status, 200);
  t.truthy(login.body.tokens.accessToken);
  t.falsy(login.body.tokens.refreshToken, "the answer the page reads has no refresh token");
  const cookies = setCookies(login.headers);
  const refresh = cookies.get("bazaar_refresh");
  t.regex(refresh ?? "", /; Path=\/bazaar\.identity\.v1\.IdentityService\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/, "httpOnly, Strict, identity's paths only, not Secure on loopback");
  t.regex(cookies.get("bazaar_signed_in") ?? "", /^bazaar_signed_in=1; Path=\/; Max-Age=\d+; SameSite=Strict$/, "the readable marker holds no secret");
  const first = cookieValue(refresh);
  t.true(first.length > 20);

  // Refresh from the cookie alone: new tokens, a rotated cookie, still no refresh token in the body.
  const refreshed = await postJson(world.url, `${identityPath}/RefreshToken`, {}, undefined, { ...cookieMode, cookie: `bazaar_refresh=${first}` });
  t.is(refreshed.status, 200);
  t.truthy(refreshed.body.tokens.accessToken);
  t.falsy(refreshed.body.tokens.refreshToken);
  const second = cookieValue(setCookies(refreshed.headers).get("bazaar_refresh"));
  t.true(second.length > 20 && second !== first, "the cookie carries the rotated token");

  // Without the header the contract is unchanged: the refresh token is in the body, no cookie.
  const plain = await postJson(world.url, `${identityPath}/Login`, { email, password });
  t.truthy(plain.body.tokens.refreshToken);
  t.deepEqual(plain.headers.getSetCookie(), []);
  // Nor does a cookie without the header stand for a refresh token.
  const headerless = await postJson(world.url, `${identityPath}/RefreshToken`, {}, undefined, { cookie: `bazaar_refresh=${second}` });
  t.is(headerless.status, 400, "no token, no cookie session: invalid_argument");

  const logout = await postJson(world.url, `${identityPath}/Logout`, {}, undefined, { ...cookieMode, cookie: `bazaar_refresh=${second}` });
  t.is(logout.status, 200);
  const cleared = setCookies(logout.headers);
  t.regex(cleared.get("bazaar_refresh") ?? "", /^bazaar_refresh=; .*Max-Age=0/);
  t.regex(cleared.get("bazaar_signed_in") ?? "", /^bazaar_signed_in=; .*Max-Age=0/);
  const revoked = await postJson(world.url, `${identityPath}/RefreshToken`, {}, undefined, { ...cookieMode, cookie: `bazaar_refresh=${second}` });
  t.is(revoked.status, 401, "the session is revoked at identity, not only forgotten by the browser");
  t.regex(setCookies(revoked.headers).get("bazaar_refresh") ?? "", /Max-Age=0/, "a refused cookie is cleared");

  // Signing out with no session cookie is a no-op that still clears the marker.
  const noSession = await postJson(world.url, `${identityPath}/Logout`, {}, undefined, cookieMode);
  t.is(noSession.status, 200);
  t.regex(setCookies(noSession.headers).get("bazaar_signed_in") ?? "", /Max-Age=0/);

  // Anywhere but a loopback host the cookies are Secure.
  const secure = await new Promise<string[]>((resolve, reject) => {
    const body = JSON.stringify({ email, password });
    const request = httpRequest(`${world.url}/${identityPath}/Login`, { method: "POST", headers: { host: "shop.example.com", "content-type": "application/json", "content-length": Buffer.byteLength(body), ...cookieMode } }, (response) => {
      response.resume();
      resolve(response.headers["set-cookie"] ?? []);
    });
    request.on("error", reject);
    request.end(body);
  });
  t.is(secure.length, 2);
  t.true(secure.every((line) => line.endsWith("; Secure")));
});

/** Every identity answer the page could read, as text (to look for refresh tokens in). */
function recordIdentityBodies(page: Page): string[] {
  const bodies: string[] = [];
  page.on("response", (response) => {
    if (response.url().includes(identityPath)) void response.text().then((text) => bodies.push(text), () => undefined);
  });
  return bodies;
}

test.serial("a shopper registers, verifies through the emailed link, signs in with a guest cart that merges, stays signed in across a reload, checks out with a saved address, follows the order and returns it, and signs out", async (t) => {
  const { page, errors } = await openPage(world.browser);
  const identityBodies = recordIdentityBodies(page);
  const email = `${unique("buyer")}@example.com`;
  const password = strongPassword();

  await page.goto(`${world.url}/register`);
  await assertAccessible(t, page, "register");
  await page.getByLabel("Your name").fill("Ada Shopper");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByText(`We sent a link to ${email}`).waitFor();

  // The link the verification email carries (services/notification: /verify-email?token=…).
  const userId = (await world.admin.identity.listUsers({ query: email })).users[0]!.id;
  const token = await world.mesh.mailedToken(userId, "verify_email");
  await page.goto(`${world.url}/verify-email?token=${encodeURIComponent(token)}`);
  await page.getByText("Your email is verified").waitFor();
  await assertAccessible(t, page, "verify email");
  t.true((await world.admin.identity.getUser({ userId })).user!.emailVerified);

  // A guest cart first, then signing in merges it into the account's cart.
  await page.goto(`${world.url}/p/${world.product.slug}`);
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText("Added to your cart.").waitFor();
  await page.getByRole("link", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await assertAccessible(t, page, "sign in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText(`Signed in as ${email}`).waitFor();
  t.is(await page.evaluate('window.localStorage.getItem("bazaar.guestCart")'), null, "the guest cart was merged and let go");
  await page.goto(`${world.url}/cart`);
  await page.getByRole("row").nth(1).waitFor();
  t.is(await page.getByRole("row").count(), 2, "the guest's line is in the account's cart");
  t.true(await page.getByRole("link", { name: world.product.name }).isVisible());

  // A reload keeps the shopper signed in (the edge's cookie), with the access token only in memory.
  await page.reload();
  await page.getByRole("link", { name: "Your account" }).waitFor();
  await page.getByRole("row").nth(1).waitFor();

  // A saved address (made through the API as the shopper): checkout offers it and fills the form.
  const shopper = createBazaarClient({ baseUrl: world.url, useHttpGet: false });
  await shopper.signIn(email, password);
  const savedAddress = { recipientName: "Ada Shopper", line1: "12 Analytical Row", city: "Springfield", region: "IL", postalCode: "62704", countryCode: "US" };
  await shopper.identity.createAddress({ userId, address: { ...savedAddress, defaultShipping: true } });
  await page.getByRole("link", { name: "Checkout" }).click();
  await page.getByLabel("Saved address").waitFor();
  t.is(await page.getByLabel("Full name").inputValue(), "Ada Shopper");
  t.is(await page.getByLabel("Email").count(), 0, "a signed-in order goes to the account's email");
  await page.getByRole("button", { name: "Show shipping options" }).click();
  await page.getByRole("radio", { name: /Standard/i }).check();
  await page.getByText("calculated at checkout").waitFor({ state: "detached" });
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await assertAccessible(t, page, "checkout signed in");
  await page.getByRole("button", { name: "Place order" }).click();
  await page.getByRole("heading", { name: "Thank you for your order" }).waitFor({ timeout: 30_000 });
  const orderId = (await page.getByTestId("order-id").textContent()) ?? "";
  const order = (await world.admin.orders.getOrder({ orderId })).order!;
  t.is(order.userId, userId, "the order is the account's");
  t.is(order.email, email);
  t.like(order.shippingAddress, savedAddress, "shipped to the saved address");

  // Shipping makes the order's shipment from its event; the page lists it (none yet would be NOT_FOUND).
  await eventually("the order's shipment", async () => (await world.admin.shipping.listOrderShipments({ orderId }).catch(() => ({ shipments: [] }))).shipments.length > 0, 30_000, 200);
  await page.getByRole("link", { name: "Your account" }).click();
  await page.getByRole("link", { name: `Order ${orderId.slice(-8)}` }).click();
  await page.getByTestId("order-status").waitFor();
  t.regex((await page.getByTestId("order-status").textContent()) ?? "", /^(confirmed|fulfilling)$/);
  t.true(await page.getByRole("region", { name: /^Shipments: / }).isVisible(), "the shipment is shown");
  await assertAccessible(t, page, "order page");

  // Staff deliver it; the shopper sees the history and asks to return one unit.
  for (const status of [OrderStatus.FULFILLING, OrderStatus.SHIPPED, OrderStatus.DELIVERED]) await world.admin.orders.updateOrderStatus({ orderId, status });
  await page.reload();
  await page.getByTestId("order-status").waitFor();
  t.is(await page.getByTestId("order-status").textContent(), "delivered");
  const history = (await page.locator(".history").first().locator("li").allTextContents()).map((line) => line.split(" — ")[0]);
  t.deepEqual(history.slice(-3), ["fulfilling", "shipped", "delivered"], "the status history, oldest first");
  t.true(history.includes("confirmed"));
  await page.getByLabel(`Units of ${world.product.name} to return`).fill("1");
  await page.getByLabel("Reason").selectOption({ label: "damaged" });
  await page.getByRole("button", { name: "Send return request" }).click();
  await page.getByText("Your return request is sent.").waitFor();
  t.regex((await page.getByTestId("return").textContent()) ?? "", /1 × .* — requested/);
  await page.screenshot({ path: path.join(screenshots, "order-desktop.png"), fullPage: true });

  // The refresh token: in the httpOnly cookie only — never in storage or in an answer the page read.
  const refreshCookie = (await page.context().cookies()).find((c) => c.name === "bazaar_refresh");
  t.truthy(refreshCookie?.value);
  t.true(refreshCookie!.httpOnly);
  t.is(refreshCookie!.sameSite, "Strict");
  const storage = await page.evaluate<string>("JSON.stringify({ ...window.localStorage }) + JSON.stringify({ ...window.sessionStorage }) + document.cookie");
  t.false(storage.includes(refreshCookie!.value));
  t.true(identityBodies.length >= 2, "Login and RefreshToken answers were seen");
  t.false(identityBodies.some((body) => body.includes(refreshCookie!.value) || /"refreshToken":"[^"]/.test(body)));

  // Signing out clears the cookie and revokes the session at identity.
  await page.goto(`${world.url}/account`);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("link", { name: "Sign in", exact: true }).waitFor();
  t.falsy((await page.context().cookies()).find((c) => c.name === "bazaar_refresh"));
  const reused = await postJson(world.url, `${identityPath}/RefreshToken`, { refreshToken: refreshCookie!.value });
  t.is(reused.status, 401, "the signed-out session's refresh token is revoked");
  await page.reload();
  await page.getByRole("link", { name: "Sign in", exact: true }).waitFor();
  t.deepEqual(errors, []);
});

test.serial("an account with MFA signs in with the code step; the account pages keep order history in keyset pages and fit a phone", async (t) => {
  const { email, password } = await verifiedAccount();
  const client = createBazaarClient({ baseUrl: world.url, useHttpGet: false });
  await client.signIn(email, password);
  const { secret } = await client.identity.enrollMfa({});
  const confirmCode = currentTotp(secret);
  await client.identity.confirmMfa({ code: confirmCode });
  // Eleven orders through the API: one more than an account page.
  for (let i = 0; i < 11; i++) {
    const { cart } = await client.cart.createCart({ currencyCode: "USD" });
    await client.cart.addCartItem({ cartId: cart!.id, sku: world.product.skus[i % 2]!, quantity: 1 });
    const options = await client.cart.listShippingOptions({ countryCode: "US", currencyCode: "USD" });
    await client.orders.placeOrder({
      cartId: cart!.id,
      shippingAddress: { recipientName: "M F A", line1: "3 Key Lane", city: "Springfield", region: "IL", postalCode: "62701", countryCode: "US" },
      shippingOptionId: options.options[0]!.id,
      paymentMethod: "pm_test_ok",
      idempotencyKey: unique("order"),
    });
  }

  const { page, errors } = await openPage(world.browser);
  await page.goto(`${world.url}/account`);
  await page.waitForURL(/\/sign-in\?next=%2Faccount/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  // A code is good once: sign in with the next one.
  await eventually("the next TOTP code", () => currentTotp(secret) !== confirmCode, 40_000, 500);
  await page.getByLabel("Authentication code").fill(currentTotp(secret));
  await assertAccessible(t, page, "MFA step");
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByText(`Signed in as ${email}`).waitFor();
  await page.getByRole("link", { name: /^Order / }).first().waitFor();
  t.is(await page.getByRole("link", { name: /^Order / }).count(), 10);
  await assertAccessible(t, page, "account");
  await page.screenshot({ path: path.join(screenshots, "account-desktop.png"), fullPage: true });
  await page.getByRole("link", { name: "Older orders" }).click();
  await page.getByRole("link", { name: "Newest orders" }).waitFor();
  t.is(await page.getByRole("link", { name: /^Order / }).count(), 1, "the eleventh, oldest order on the second page");
  t.is(await page.getByRole("link", { name: "Older orders" }).count(), 0);
  // At a phone's width the orders table fits (ids wrap).
  await page.setViewportSize({ width: 390, height: 900 });
  await page.getByRole("link", { name: "Newest orders" }).click();
  await page.getByRole("link", { name: "Older orders" }).waitFor();
  t.is(await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"), 0, "no horizontal scrolling on the account page");
  await page.screenshot({ path: path.join(screenshots, "account-phone.png"), fullPage: true });
  t.deepEqual(errors, []);
});

test.serial("a password reset through the emailed link lets the shopper sign in with the new password", async (t) => {
  const { email, userId } = await verifiedAccount();
  const { page, errors } = await openPage(world.browser);
  await page.goto(`${world.url}/sign-in`);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await page.getByText("we sent it a link").waitFor();
  const token = await world.mesh.mailedToken(userId, "reset_password");
  t.truthy(token);
  await page.goto(`${world.url}/reset-password?token=${encodeURIComponent(token)}`);
  await assertAccessible(t, page, "reset password");
  const password = strongPassword();
  await page.getByLabel("New password").fill(password);
  await page.getByRole("button", { name: "Save password" }).click();
  await page.getByText("Your password is changed").waitFor();
  await page.getByRole("link", { name: "Sign in", exact: true }).last().click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText(`Signed in as ${email}`).waitFor();
  t.deepEqual(errors, []);
});

/** A new page signed in as `email` through the sign-in page, then at `path`. */
async function signedInPage(email: string, password: string, path: string) {
  const opened = await openPage(world.browser);
  await opened.page.goto(`${world.url}/sign-in?next=${encodeURIComponent(path)}`);
  await signInOnPage(opened.page, email, password);
  return opened;
}

/** The TOTP code for `secret` now, with otpauth (the library identity uses; its settings: SHA-1, 6 digits, 30 s). */
const totp = (secret: string) => new TOTP({ algorithm: "SHA1", digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate();

test.serial("a shopper changes their display name and adds, edits and deletes saved addresses", async (t) => {
  const { email, password, userId } = await verifiedAccount();
  const { page, errors } = await signedInPage(email, password, "/account/profile");
  await page.getByLabel("Display name").waitFor();
  t.is(await page.getByLabel("Display name").inputValue(), "Shopper");
  await page.getByLabel("Display name").fill("Ada Lovelace");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  t.is((await world.admin.identity.getUser({ userId })).user!.displayName, "Ada Lovelace");
  await assertAccessible(t, page, "profile");

  await page.getByRole("navigation", { name: "Your account" }).getByRole("link", { name: "Addresses" }).click();
  await page.getByText("You have no saved addresses yet.").waitFor();
  const add = async (fields: Record<string, string>) => {
    await page.getByRole("button", { name: "Add an address" }).click();
    const form = page.locator("form").filter({ has: page.getByRole("group", { name: "Add an address" }) });
    for (const [label, value] of Object.entries(fields)) await form.getByLabel(label, { exact: true }).fill(value);
    await form.getByRole("button", { name: "Save" }).click();
    await page.getByText("Address saved.").waitFor();
  };
  await add({ "Full name": "Ada Lovelace", Address: "12 Analytical Row", City: "Springfield", "State / region": "IL", "Postal code": "62704" });
  await add({ "Full name": "Charles Babbage", Address: "1 Difference Lane", City: "Peoria", "State / region": "IL", "Postal code": "61602" });
  await page.getByTestId("address").nth(1).waitFor();
  t.is(await page.getByTestId("address").count(), 2);
  t.regex((await page.getByTestId("address").first().textContent()) ?? "", /Default/, "the first address is the default");
  await assertAccessible(t, page, "addresses");

  // Edit the first: the form holds its values; the new city is listed and stored.
  await page.getByRole("button", { name: "Edit address of Ada Lovelace" }).click();
  const edit = page.locator("form").filter({ has: page.getByRole("group", { name: "Edit address of Ada Lovelace" }) });
  t.is(await edit.getByLabel("Address", { exact: true }).inputValue(), "12 Analytical Row");
  await edit.getByLabel("City").fill("Chicago");
  await edit.getByLabel("Postal code").fill("60601");
  await assertAccessible(t, page, "address editor");
  await edit.getByRole("button", { name: "Save" }).click();
  await page.getByText("Address saved.").waitFor();
  t.regex((await page.getByTestId("address").first().textContent()) ?? "", /Chicago, IL 60601/);

  // Delete the second.
  await page.getByRole("button", { name: "Delete address of Charles Babbage" }).click();
  await page.getByText("Address deleted.").waitFor();
  await page.getByRole("button", { name: "Delete address of Charles Babbage" }).waitFor({ state: "detached" });
  t.is(await page.getByTestId("address").count(), 1);
  const stored = (await world.admin.identity.listAddresses({ userId })).addresses;
  t.deepEqual(stored.map((a) => [a.recipientName, a.city, a.postalCode, a.defaultShipping]), [["Ada Lovelace", "Chicago", "60601", true]]);
  await page.screenshot({ path: path.join(screenshots, "addresses-desktop.png"), fullPage: true });
  t.deepEqual(errors, []);
});

test.serial("a shopper sees their sessions with this one marked, revokes another, and changes the password; the new one signs in", async (t) => {
  const { email, password } = await verifiedAccount();
  // Another device: a session made through the API.
  const elsewhere = createBazaarClient({ baseUrl: world.url, useHttpGet: false });
  const otherTokens = await elsewhere.signIn(email, password);
  const { page, errors } = await signedInPage(email, password, "/account/sessions");
  await page.getByTestId("session").nth(1).waitFor();
  t.is(await page.getByTestId("session").count(), 2);
  const current = page.locator('[data-testid="session"][data-current="true"]');
  t.is(await current.count(), 1, "one session is this one");
  t.regex((await current.textContent()) ?? "", /Chrome on Linux — This device/);
  t.is(await current.getByRole("button").count(), 0, "this session is not offered for revoking");
  await assertAccessible(t, page, "sessions");
  await page.screenshot({ path: path.join(screenshots, "sessions-desktop.png"), fullPage: true });
  await page.getByRole("button", { name: /^Revoke the session on / }).click();
  await page.getByText("Session revoked").waitFor();
  await page.getByTestId("session").nth(1).waitFor({ state: "detached" });
  t.is(await page.getByTestId("session").count(), 1);
  const refused = await postJson(world.url, `${identityPath}/RefreshToken`, { refreshToken: otherTokens.refreshToken });
  t.is(refused.status, 401, "the revoked device's refresh token no longer works");

  // Change the password: a wrong current one is said on its field; then the change.
  await page.getByRole("navigation", { name: "Your account" }).getByRole("link", { name: "Password" }).click();
  await page.getByLabel("Current password").fill("not-my-password-1");
  const newPassword = strongPassword();
  await page.getByLabel("New password").fill(newPassword);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.locator("#current-password-error").getByText("That is not your current password.").waitFor();
  await assertAccessible(t, page, "change password with an error");
  await page.getByLabel("Current password").fill(password);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByText("Your password is changed.").waitFor();
  t.is((await postJson(world.url, `${identityPath}/Login`, { email, password })).status, 401, "the old password no longer signs in");

  // Sign out, and in again with the new password.
  await page.getByRole("navigation", { name: "Your account" }).getByRole("link", { name: "Orders" }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("link", { name: "Sign in", exact: true }).click();
  await signInOnPage(page, email, newPassword);
  await page.getByText(`Signed in as ${email}`).waitFor();
  t.deepEqual(unprovoked(errors, [{ status: 401, method: "ChangePassword" }]), []);
});

test.serial("a shopper enrols in MFA from the QR page's secret and a TOTP code, keeps the recovery codes, then needs a code to sign in, and turns MFA off with a recovery code", async (t) => {
  const { email, password } = await verifiedAccount();
  const { page, errors } = await signedInPage(email, password, "/account/mfa");
  await page.getByRole("button", { name: "Set up two-step verification" }).click();
  const qr = page.getByRole("img", { name: "QR code for your authenticator app" });
  await qr.waitFor();
  t.true((await qr.locator("path").getAttribute("d"))!.length > 100, "the QR code is drawn");
  const secret = ((await page.getByTestId("mfa-secret").textContent()) ?? "").trim();
  t.regex(secret, /^[A-Z2-7]{16,}$/, "the secret is shown in base32");
  await assertAccessible(t, page, "MFA enrolment");
  await page.screenshot({ path: path.join(screenshots, "mfa-desktop.png"), fullPage: true });

  // A wrong code is refused on the field; the app's code turns MFA on.
  await page.getByLabel("6-digit code from the app").fill(totp(secret) === "000000" ? "111111" : "000000");
  await page.getByRole("button", { name: "Turn on" }).click();
  await page.locator("#mfa-code-error").waitFor();
  const code = totp(secret);
  await page.getByLabel("6-digit code from the app").fill(code);
  await page.getByRole("button", { name: "Turn on" }).click();
  await page.getByRole("heading", { name: "Your recovery codes" }).waitFor();
  const recoveryCodes = await page.getByTestId("recovery-codes").locator("li").allTextContents();
  t.is(recoveryCodes.length, 10);
  await assertAccessible(t, page, "recovery codes");
  await page.getByRole("button", { name: "I have saved them" }).click();
  await page.getByRole("group", { name: "Turn off two-step verification" }).waitFor();
  t.is(await page.getByTestId("recovery-codes").count(), 0, "the recovery codes are shown once");

  // Signing in now asks for a code (a code is good once: the next one).
  await page.getByRole("navigation", { name: "Your account" }).getByRole("link", { name: "Orders" }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("link", { name: "Sign in", exact: true }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Authentication code").waitFor();
  await eventually("the next TOTP code", () => totp(secret) !== code, 40_000, 500);
  await page.getByLabel("Authentication code").fill(totp(secret));
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByText(`Signed in as ${email}`).waitFor();

  // Off again with the password and a recovery code.
  await page.getByRole("navigation", { name: "Your account" }).getByRole("link", { name: "Two-step verification" }).click();
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Code or recovery code").fill(recoveryCodes[0]!);
  await page.getByRole("button", { name: "Turn off two-step verification" }).click();
  await page.getByRole("button", { name: "Set up two-step verification" }).waitFor();
  t.is((await postJson(world.url, `${identityPath}/Login`, { email, password })).body.mfaChallenge ?? "", "", "signing in needs no code any more");
  t.deepEqual(unprovoked(errors, [{ status: 401, method: "ConfirmMfa" }]), []);
});

test.serial("a shopper deletes their account after confirming with the password; they are signed out and cannot sign in again", async (t) => {
  const { email, password, userId } = await verifiedAccount();
  const { page, errors } = await signedInPage(email, password, "/account/delete");
  const button = page.getByRole("button", { name: "Delete my account permanently" });
  await button.waitFor();
  t.true(await button.isDisabled(), "not before the confirmation is ticked");
  await page.getByLabel("I understand that this cannot be undone").check();
  await page.getByLabel("Password", { exact: true }).fill("not-my-password-1");
  await button.click();
  await page.locator("#delete-password-error").getByText("That is not your current password.").waitFor();
  await assertAccessible(t, page, "delete account");
  t.truthy((await world.admin.identity.getUser({ userId })).user?.email, "nothing deleted after a wrong password");

  await page.getByLabel("Password", { exact: true }).fill(password);
  await button.click();
  await page.getByText("Your account is deleted.").waitFor();
  await page.getByRole("link", { name: "Sign in", exact: true }).waitFor();
  t.falsy((await page.context().cookies()).find((c) => c.name === "bazaar_refresh"), "signed out: no session cookie");
  t.is((await postJson(world.url, `${identityPath}/Login`, { email, password })).status, 401, "the account no longer signs in");

  await page.getByRole("link", { name: "Sign in", exact: true }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("That email and password do not match an account.").waitFor();
  t.deepEqual(unprovoked(errors, [{ status: 401, method: "DeleteUser" }, { status: 401, method: "Login" }, { status: 401, method: "Logout" }]), []);
});

test.serial("the unsubscribe link of a notification email turns that topic off; a forged or missing token is refused in words", async (t) => {
  const { email, password, userId } = await verifiedAccount();
  const { page, errors } = await openPage(world.browser);
  await page.goto(`${world.url}/unsubscribe?token=${world.mesh.unsubscribeToken(userId, "shipping")}`);
  await page.getByRole("button", { name: "Unsubscribe" }).waitFor();
  await assertAccessible(t, page, "unsubscribe");
  await page.getByRole("button", { name: "Unsubscribe" }).click();
  await page.getByText("You are unsubscribed: no more shipping updates by email.").waitFor();
  const shopper = createBazaarClient({ baseUrl: world.url, useHttpGet: false });
  await shopper.signIn(email, password);
  const preferences = (await shopper.notifications.getMyPreferences({})).preferences;
  t.false(preferences.find((p) => p.topic === NotificationTopic.SHIPPING && p.channel === NotificationChannel.EMAIL)?.enabled ?? true, "shipping emails are off");

  await page.goto(`${world.url}/unsubscribe?token=forged.token`);
  await page.getByRole("button", { name: "Unsubscribe" }).click();
  await page.getByText("This unsubscribe link is not valid or has expired.").waitFor();
  await assertAccessible(t, page, "unsubscribe refused");
  await page.goto(`${world.url}/unsubscribe`);
  await page.getByText("This link is incomplete.").waitFor();
  t.deepEqual(unprovoked(errors, [{ status: 401, method: "Unsubscribe" }]), []);
});
