// What the browser tests share: the shop's world (a private mesh, an edge serving the pages, an admin,
// a browser), a page that records every console error, uncaught exception and failed request (the tests
// fail on any they did not expect), the axe-core check, and the checkout form.
import { AxeBuilder } from "@axe-core/playwright";
import type { ExecutionContext } from "ava";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { createBazaarClient, type BazaarClient } from "@bazaar/client";
import { createWebPages } from "@bazaar/web";
import { startMesh, unique, type Mesh, type MeshOptions } from "../../test/helpers.ts";
import { launchChromium } from "./browser.ts";

/** Where the tests write screenshots (the README shows some of them). */
export const screenshots = path.join(import.meta.dirname, "..", "test-output");

export interface ShopWorld {
  mesh: Mesh;
  /** The edge's origin: the shop's pages and its API. */
  url: string;
  /** Signed in as the mesh's first admin (POSTs only, so never a cached read). */
  admin: BazaarClient;
  /** The admin's password. */
  adminPassword: string;
  browser: Browser;
  /** A short random tag for this run's names (slugs, SKUs, emails). */
  tag: string;
  /** Closes the browser, the edge and the mesh. */
  stop(): Promise<void>;
}

/**
 * Starts a private mesh (options as startMesh's) with an edge that serves the pages, registers and
 * signs in its first admin (`adminName` as display name), and launches Chromium.
 */
export async function startShopWorld(
  options: MeshOptions & {
    adminName?: string;
    /** The edge's upstream names, from the mesh's own (e.g. to leave a service out). Default: the mesh's. */
    upstreams?: (names: Mesh["names"]) => Record<string, string>;
  } = {},
): Promise<ShopWorld> {
  mkdirSync(screenshots, { recursive: true });
  const mesh = await startMesh(options);
  try {
    let url = "";
    ({ url } = await mesh.edge({ pages: createWebPages({ apiBaseUrl: () => url }), ...(options.upstreams ? { upstreams: options.upstreams(mesh.names) } : {}) }));
    const adminPassword = `Adm1n-${unique("pw")}`;
    const admin = createBazaarClient({ baseUrl: url, useHttpGet: false });
    await admin.identity.register({ email: mesh.adminEmail, password: adminPassword, displayName: options.adminName ?? "Staff" });
    await mesh.bootstrapAdmin();
    await admin.signIn(mesh.adminEmail, adminPassword);
    const browser = await launchChromium();
    return {
      mesh,
      url,
      admin,
      adminPassword,
      browser,
      tag: unique("w").slice(2),
      async stop() {
        await browser.close();
        await mesh.stop();
      },
    };
  } catch (error) {
    await mesh.stop();
    throw error;
  }
}

/** A fresh context (no cookies, no storage) and page; `errors` collects what went wrong in it. */
export async function openPage(browser: Browser, width = 1280): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  // The machine is shared: generous waits, never assertions on time.
  context.setDefaultTimeout(60_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("response", (response) => {
    if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
  });
  return { page, errors };
}

/** axe-core on the page as it stands: no serious or critical violations. */
export async function assertAccessible(t: ExecutionContext, page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const grave = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  t.deepEqual(grave.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), [], `accessibility of ${what}`);
}

/** Fills the checkout form, takes the standard shipping quote and enters `card`. */
export async function fillCheckout(page: Page, email: string, card: string): Promise<void> {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Full name").fill("Grace Hopper");
  await page.getByLabel("Address").fill("2 Harbour Road");
  await page.getByLabel("City").fill("Springfield");
  await page.getByLabel("State / region").fill("IL");
  await page.getByLabel("Postal code").fill("62701");
  await page.getByRole("button", { name: "Show shipping options" }).click();
  await page.getByRole("radio", { name: /Standard/i }).check();
  await page.getByText("calculated at checkout").waitFor({ state: "detached" });
  await page.getByLabel("Card number").fill(card);
}

/**
 * `errors` less the refusals a test provoked on purpose: the failed responses of the RPC `method`s
 * with those statuses, and Chromium's console line for each ("Failed to load resource: … status of N").
 */
export function unprovoked(errors: string[], provoked: { status: number; method: string }[]): string[] {
  return errors.filter(
    (e) =>
      !provoked.some((p) => e.startsWith(`${p.status} `) && e.endsWith(`/${p.method}`)) &&
      !provoked.some((p) => e.startsWith(`Failed to load resource: the server responded with a status of ${p.status} `)),
  );
}

export const strongPassword = () => `Tr0ub4dor-${unique("pw")}`;

/** Registers and verifies an account through the API (for the tests that are not about registering). */
export async function verifiedAccount(world: ShopWorld, displayName = "Shopper"): Promise<{ email: string; password: string; userId: string }> {
  const email = `${unique("shopper")}@example.com`;
  const password = strongPassword();
  const client = createBazaarClient({ baseUrl: world.url, useHttpGet: false });
  const { user } = await client.identity.register({ email, password, displayName });
  await client.identity.verifyEmail({ token: await world.mesh.mailedToken(user!.id, "verify_email") });
  return { email, password, userId: user!.id };
}

/** Signs in on the sign-in page `page` is on (a password, no MFA) and waits to leave it. */
export async function signInOnPage(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"));
}
