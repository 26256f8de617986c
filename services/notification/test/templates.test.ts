// Templates as files: every one renders at start in every language it is written in, a missing
// translation falls back to English, and a broken template stops the start.
import test from "ava";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadTemplates, TemplateError } from "../src/index.ts";
import { templatesDir } from "../src/templates.ts";

test("every template renders its sample in English and German, with a text part and an HTML part, and money in the reader's format", async (t) => {
  const templates = await loadTemplates();
  t.true(templates.names.includes("order-confirmation") && templates.names.includes("email-verification"));
  const english = await templates.render("order-confirmation", "en", templates.sample("order-confirmation"));
  const german = await templates.render("order-confirmation", "de", templates.sample("order-confirmation"));
  t.is(english.subject, "Your Bazaar order is confirmed (€94.70)");
  t.is(german.subject, "Ihre Bazaar-Bestellung ist bestätigt (94,70\u00a0€)", "German money: comma, no-break space, sign after");
  t.true(english.text.includes("2 × Linen shirt (SHIRT-LINEN-M)  €79.80"));
  t.true(german.html.includes("Lieferung an") && german.html.includes("<!doctype html>"));
});

test("a language a template is not written in falls back to English", async (t) => {
  const templates = await loadTemplates();
  t.is(templates.localeFor("low-stock", "de"), "en");
  t.is(templates.localeFor("low-stock", "fr"), "en");
  t.is((await templates.render("low-stock", "de", templates.sample("low-stock"))).subject, "Low stock: SHIRT-LINEN-M (3 left)");
});

test("a template that does not render with its sample data, or is invalid MJML, fails the start naming it", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "templates-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(templatesDir, dir, { recursive: true });
  // A variable the sample data does not have.
  writeFileSync(path.join(dir, "order-refunded", "en.text.hbs"), "Refunded {{amountt.minor}}");
  const missing = await t.throwsAsync(loadTemplates(dir), { instanceOf: TemplateError });
  t.regex(missing!.message, /order-refunded/);

  cpSync(templatesDir, dir, { recursive: true });
  writeFileSync(path.join(dir, "low-stock", "en.mjml.hbs"), "<mj-section><mj-column><mj-nonsense>{{sku}}</mj-nonsense></mj-column></mj-section>");
  const invalid = await t.throwsAsync(loadTemplates(dir), { instanceOf: TemplateError });
  t.regex(invalid!.message, /low-stock/);
});
