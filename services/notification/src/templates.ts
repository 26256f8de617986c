// Message templates, kept as files in templates/: per message a folder with, per locale, a subject, an MJML
// body (responsive HTML for mail clients), a plain-text body and, for messages also sent by SMS or push,
// a short text (<locale>.short.hbs), all Handlebars, plus sample.json (the
// data staff previews use, and what every template is rendered with at start). A locale without its own
// files falls back to English. Every template in every locale is rendered at start: one that fails is
// an error then, never at send time.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import mjml2html from "mjml";

export const DEFAULT_LOCALE = "en";
/** The locales templates are written in; any other falls back to English. */
export const LOCALES = ["en", "de"] as const;
export type Locale = (typeof LOCALES)[number];

export const templatesDir = fileURLToPath(new URL("../templates/", import.meta.url));

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  /** The SMS or push text, for templates that have one. */
  short?: string;
}

export interface Templates {
  /** The templates there are, e.g. ["email-verification", …]. */
  readonly names: readonly string[];
  /** The locale a message in `locale` is written in (itself, or English when it has no translation). */
  localeFor(template: string, locale: string): Locale;
  /** The locales `template` is written in. */
  locales(template: string): Locale[];
  subject(template: string, locale: string, data: Record<string, unknown>): string;
  /** Subject, HTML (through MJML) and text of `template` in `locale` with `data`. */
  render(template: string, locale: string, data: Record<string, unknown>): Promise<RenderedEmail>;
  /** The template's sample data (for previews). */
  sample(template: string): Record<string, unknown>;
}

/** Thrown at start for a template that is missing a part or fails to render its sample data. */
export class TemplateError extends Error {
  override name = "TemplateError";
}

interface Compiled {
  subject: Handlebars.TemplateDelegate;
  /** The layout and body, MJML compiled to HTML once at load; Handlebars fills it per message. */
  html: Handlebars.TemplateDelegate;
  text: Handlebars.TemplateDelegate;
  short?: Handlebars.TemplateDelegate;
}

function helpers(instance: typeof Handlebars): void {
  // Money in minor units and its currency, written the way the locale writes it.
  instance.registerHelper("money", (minor: unknown, currency: unknown, options: Handlebars.HelperOptions) => {
    const locale = String((options.data.root as { locale?: string }).locale ?? DEFAULT_LOCALE);
    const code = String(currency);
    const digits = new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
    return new Intl.NumberFormat(locale, { style: "currency", currency: code }).format(Number(minor) / 10 ** digits);
  });
  instance.registerHelper("date", (iso: unknown, options: Handlebars.HelperOptions) => {
    const locale = String((options.data.root as { locale?: string }).locale ?? DEFAULT_LOCALE);
    return new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "short", timeZone: "UTC" }).format(new Date(String(iso)));
  });
  instance.registerHelper("eq", (a: unknown, b: unknown) => a === b);
}

/**
 * Loads and checks the templates in `dir` (default: the service's templates/): each rendered in each
 * locale with its sample data, MJML validated strictly. Throws TemplateError naming what failed.
 */
export async function loadTemplates(dir = templatesDir): Promise<Templates> {
  // HTML escaping for the MJML parts; the subject and text parts are plain text.
  const html = Handlebars.create();
  const plain = Handlebars.create();
  helpers(html);
  helpers(plain);
  const read = (file: string) => readFileSync(path.join(dir, file), "utf8");
  const layout = { mjml: read("layout.mjml.hbs"), text: plain.compile(read("layout.text.hbs"), { strict: true, noEscape: true }) };
  if (!layout.mjml.includes("{{{body}}}")) throw new TemplateError("layout.mjml.hbs must contain {{{body}}}");
  const strings = new Map<string, Record<string, string>>(LOCALES.map((locale) => [locale, JSON.parse(read(`strings.${locale}.json`)) as Record<string, string>]));

  const names = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  const compiled = new Map<string, Compiled>();
  const samples = new Map<string, Record<string, unknown>>();
  for (const name of names) {
    const sampleFile = path.join(name, "sample.json");
    if (!existsSync(path.join(dir, sampleFile))) throw new TemplateError(`template ${name}: ${sampleFile} is missing`);
    samples.set(name, JSON.parse(read(sampleFile)) as Record<string, unknown>);
    for (const locale of LOCALES) {
      const parts = ["subject", "mjml", "text"].map((part) => path.join(name, `${locale}.${part}.hbs`));
      const present = parts.filter((file) => existsSync(path.join(dir, file)));
      if (present.length === 0 && locale !== DEFAULT_LOCALE) continue;
      if (present.length !== parts.length) throw new TemplateError(`template ${name}, locale ${locale}: needs ${parts.join(", ")}`);
      const shortFile = path.join(name, `${locale}.short.hbs`);
      try {
        // MJML is the costly step: it runs once here, over the Handlebars source (expressions sit in
        // text, table cells and attributes, which MJML passes through), not once per message.
        const { html: page, errors } = await mjml2html(layout.mjml.replace("{{{body}}}", read(parts[1]!)), { validationLevel: "strict" });
        if (errors.length > 0) throw new TemplateError(`template ${name}, locale ${locale}: ${errors.map((e) => e.formattedMessage).join("; ")}`);
        compiled.set(`${name}/${locale}`, {
          subject: plain.compile(read(parts[0]!), { strict: true, noEscape: true }),
          html: html.compile(page, { strict: true }),
          text: plain.compile(read(parts[2]!), { strict: true, noEscape: true }),
          ...(existsSync(path.join(dir, shortFile)) ? { short: plain.compile(read(shortFile), { strict: true, noEscape: true }) } : {}),
        });
      } catch (error) {
        throw new TemplateError(`template ${name}, locale ${locale}: ${(error as Error).message}`, { cause: error });
      }
    }
  }

  const localeFor = (template: string, locale: string): Locale => {
    if (!samples.has(template)) throw new TemplateError(`no template ${template}`);
    return compiled.has(`${template}/${locale}`) ? (locale as Locale) : DEFAULT_LOCALE;
  };
  const partsOf = (template: string, locale: string) => compiled.get(`${template}/${localeFor(template, locale)}`)!;
  const context = (template: string, locale: string, data: Record<string, unknown>) => {
    const written = localeFor(template, locale);
    // Every message may have these; strict templates may then name them without failing.
    return { storefrontUrl: "", unsubscribeUrl: "", ...data, locale: written, t: strings.get(written)! };
  };

  const templates: Templates = {
    names,
    localeFor,
    locales: (template) => LOCALES.filter((locale) => compiled.has(`${template}/${locale}`)),
    subject: (template, locale, data) => partsOf(template, locale).subject(context(template, locale, data)).trim(),
    async render(template, locale, data) {
      const parts = partsOf(template, locale);
      const values = context(template, locale, data);
      const subject = parts.subject(values).trim();
      return {
        subject,
        html: parts.html({ ...values, subject }),
        text: layout.text({ ...values, subject, body: parts.text(values).trim() }).trim() + "\n",
        ...(parts.short ? { short: parts.short(values).trim() } : {}),
      };
    },
    sample: (template) => {
      const sample = samples.get(template);
      if (!sample) throw new TemplateError(`no template ${template}`);
      return structuredClone(sample);
    },
  };

  // Every template, in every locale it is written in, with its sample data: a broken one stops the start.
  for (const name of names) {
    for (const locale of LOCALES) {
      if (!compiled.has(`${name}/${locale}`)) continue;
      try {
        await templates.render(name, locale, templates.sample(name));
      } catch (error) {
        throw error instanceof TemplateError ? error : new TemplateError(`template ${name}, locale ${locale}: ${(error as Error).message}`, { cause: error });
      }
    }
  }
  return templates;
}
