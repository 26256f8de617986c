// Bulk import from CSV or JSON lines: every line is parsed and validated on its own; valid lines
// create or update products (matched by slug) in one transaction, rejected lines are reported with
// their violations and change nothing.
import { InvalidArgumentError, isCurrencyCode, typedQueries, type EntityManager, type FieldViolation } from "@bazaar/platform";
import { ImportFormat } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { parse } from "csv-parse/sync";
import { categoryIdsByKey } from "../categories.ts";
import { catalogEntities } from "../entities.ts";
import { MAX_PRICE_MINOR } from "../validation.ts";
import { productViolations, type ProductInput, type VariantInput } from "./product-input.ts";
import { currentInput, insertProduct, rewriteProduct, updatablePaths } from "./products.ts";

// Below the platform's 4 MiB message limit, so an oversized import gets this clear invalid_argument.
export const MAX_IMPORT_BYTES = 3 * 1024 * 1024;
export const MAX_IMPORT_LINES = 5000;

export interface ImportReport {
  created: number;
  updated: number;
  rejected: { line: number; violations: FieldViolation[] }[];
}

/** A parsed line: the product (with its category still a slug or id) or what is wrong with it. */
interface ParsedLine {
  line: number;
  input?: ProductInput & { category: string };
  violations: FieldViolation[];
}

const CSV_COLUMNS = ["slug", "name", "description", "brand", "category", "status", "tags", "image_urls", "attributes", "sku", "options", "prices", "weight_grams"];

/** An optional whole number of grams (CSV text or JSON number); out of range is left to the input checks. */
function weightFrom(value: unknown, field: string, out: FieldViolation[]): number {
  if (value === undefined || value === "") return 0;
  const weight = typeof value === "string" && /^\d{1,9}$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof weight !== "number" || !Number.isSafeInteger(weight)) {
    out.push({ field, description: "must be a whole number of grams" });
    return 0;
  }
  return weight;
}

function pairs(text: string, field: string, out: FieldViolation[]): Record<string, string> {
  const map: Record<string, string> = {};
  if (text.trim() === "") return map;
  for (const part of text.split("|")) {
    const eq = part.indexOf("=");
    if (eq <= 0) out.push({ field, description: `"${part}" is not key=value` });
    else map[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return map;
}

function csvPrices(text: string, field: string, out: FieldViolation[]): Record<string, bigint> {
  const prices: Record<string, bigint> = {};
  for (const part of text.split("|").filter((p) => p.trim() !== "")) {
    const match = /^\s*([A-Z]{3})\s*:\s*(\d{1,13})\s*$/.exec(part);
    if (!match) out.push({ field, description: `"${part}" is not CURRENCY:minor_units (e.g. USD:1999)` });
    else if (match[1]! in prices) out.push({ field, description: `${match[1]} is repeated` });
    else {
      const amount = BigInt(match[2]!);
      if (amount <= 0n || amount > MAX_PRICE_MINOR) out.push({ field, description: `${match[1]} amount must be between 1 and ${MAX_PRICE_MINOR}` });
      prices[match[1]!] = amount;
    }
  }
  return prices;
}

function parseCsv(text: string): ParsedLine[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, relax_column_count: true, skip_empty_lines: true, trim: true, bom: true }) as never;
  } catch (error) {
    throw new InvalidArgumentError({ field: "content", description: `is not valid CSV: ${(error as Error).message}` });
  }
  const header = records[0]?.record.map((h) => h.toLowerCase()) ?? [];
  const missing = ["slug", "name", "category", "sku", "prices"].filter((c) => !header.includes(c));
  const unknown = header.filter((h) => !CSV_COLUMNS.includes(h));
  if (missing.length > 0 || unknown.length > 0) {
    throw new InvalidArgumentError({
      field: "content",
      description: `the CSV header must name the columns ${CSV_COLUMNS.join(", ")}${missing.length ? `; missing ${missing.join(", ")}` : ""}${unknown.length ? `; unknown ${unknown.join(", ")}` : ""}`,
    });
  }
  return records.slice(1).map(({ record, info }) => {
    const out: FieldViolation[] = [];
    const col = (name: string) => record[header.indexOf(name)] ?? "";
    if (record.length !== header.length) out.push({ field: "line", description: `has ${record.length} columns, the header ${header.length}` });
    const status = col("status") || "draft";
    if (status !== "draft" && status !== "active") out.push({ field: "status", description: "must be draft or active" });
    const list = (name: string) => col(name).split("|").map((s) => s.trim()).filter(Boolean);
    const variant: VariantInput = {
      sku: col("sku"),
      options: pairs(col("options"), "options", out),
      prices: csvPrices(col("prices"), "prices", out),
      weightGrams: weightFrom(col("weight_grams"), "weight_grams", out),
    };
    return {
      line: info.lines,
      violations: out,
      input: {
        slug: col("slug"),
        name: col("name"),
        description: col("description"),
        brand: col("brand"),
        category: col("category"),
        categoryId: "",
        status: status === "active" ? "active" : "draft",
        tags: list("tags"),
        imageUrls: list("image_urls"),
        attributes: pairs(col("attributes"), "attributes", out),
        variants: [variant],
      },
    };
  });
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

function jsonLine(object: Record<string, unknown>, out: FieldViolation[]): ProductInput & { category: string } {
  const get = (...names: string[]) => names.map((n) => object[n]).find((x) => x !== undefined);
  const text = (field: string, ...names: string[]) => {
    const value = get(field, ...names);
    if (value === undefined || value === null) return "";
    if (typeof value !== "string") out.push({ field, description: "must be a string" });
    return typeof value === "string" ? value : "";
  };
  const strings = (field: string, ...names: string[]) => {
    const value = get(field, ...names) ?? [];
    if (!Array.isArray(value) || value.some((s) => typeof s !== "string")) {
      out.push({ field, description: "must be a list of strings" });
      return [];
    }
    return value as string[];
  };
  const stringMap = (value: unknown, field: string) => {
    if (value === undefined) return {};
    if (!isObject(value) || Object.values(value).some((s) => typeof s !== "string")) {
      out.push({ field, description: "must be an object of strings" });
      return {};
    }
    return value as Record<string, string>;
  };
  const status = text("status") || "draft";
  if (status !== "draft" && status !== "active") out.push({ field: "status", description: "must be draft or active" });
  const rawVariants = get("variants") ?? [];
  const variants: VariantInput[] = [];
  if (!Array.isArray(rawVariants)) out.push({ field: "variants", description: "must be a list" });
  else
    rawVariants.slice(0, 101).forEach((raw, i) => {
      const field = `variants[${i}]`;
      if (!isObject(raw)) return void out.push({ field, description: "must be an object" });
      const prices: Record<string, bigint> = {};
      const rawPrices = raw.prices;
      const add = (currency: unknown, amount: unknown, at: string) => {
        if (typeof currency !== "string" || !isCurrencyCode(currency)) return void out.push({ field: `${at}.currency_code`, description: "must be an ISO 4217 code" });
        const ok = (typeof amount === "number" && Number.isSafeInteger(amount)) || (typeof amount === "string" && /^\d{1,13}$/.test(amount));
        if (!ok || BigInt(amount as number) <= 0n || BigInt(amount as number) > MAX_PRICE_MINOR) {
          return void out.push({ field: `${at}.amount_minor`, description: `must be a whole number of minor units between 1 and ${MAX_PRICE_MINOR}` });
        }
        if (currency in prices) return void out.push({ field: `${at}.currency_code`, description: "is repeated" });
        prices[currency] = BigInt(amount as number);
      };
      if (Array.isArray(rawPrices)) rawPrices.forEach((p, j) => (isObject(p) ? add(p.currency_code ?? p.currencyCode, p.amount_minor ?? p.amountMinor, `${field}.prices[${j}]`) : out.push({ field: `${field}.prices[${j}]`, description: "must be an object" })));
      else if (isObject(rawPrices)) for (const [c, a] of Object.entries(rawPrices)) add(c, a, `${field}.prices[${JSON.stringify(c)}]`);
      else out.push({ field: `${field}.prices`, description: "is required" });
      variants.push({
        sku: typeof raw.sku === "string" ? raw.sku : "",
        options: stringMap(raw.options, `${field}.options`),
        prices,
        weightGrams: weightFrom(raw.weight_grams ?? raw.weightGrams, `${field}.weight_grams`, out),
      });
    });
  const category = text("category", "category_id", "categoryId");
  return {
    slug: text("slug"),
    name: text("name"),
    description: text("description"),
    brand: text("brand"),
    category,
    categoryId: "",
    status: status === "active" ? "active" : "draft",
    tags: strings("tags"),
    imageUrls: strings("image_urls", "imageUrls"),
    attributes: stringMap(get("attributes"), "attributes"),
    variants,
  };
}

function parseJsonLines(text: string): ParsedLine[] {
  const lines: ParsedLine[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    if (raw.trim() === "") return;
    const out: FieldViolation[] = [];
    let object: unknown;
    try {
      object = JSON.parse(raw);
    } catch (error) {
      return void lines.push({ line: index + 1, violations: [{ field: "line", description: `is not JSON: ${(error as Error).message}` }] });
    }
    if (!isObject(object)) return void lines.push({ line: index + 1, violations: [{ field: "line", description: "must be a JSON object" }] });
    lines.push({ line: index + 1, input: jsonLine(object, out), violations: out });
  });
  return lines;
}

export async function importProducts(em: EntityManager, format: ImportFormat, content: Uint8Array, validateOnly: boolean): Promise<ImportReport> {
  if (format !== ImportFormat.CSV && format !== ImportFormat.JSON_LINES) throw new InvalidArgumentError({ field: "format", description: "must be CSV or JSON_LINES" });
  if (content.byteLength === 0) throw new InvalidArgumentError({ field: "content", description: "is empty" });
  if (content.byteLength > MAX_IMPORT_BYTES) throw new InvalidArgumentError({ field: "content", description: `must be at most ${MAX_IMPORT_BYTES} bytes` });
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(content);
  } catch {
    throw new InvalidArgumentError({ field: "content", description: "must be UTF-8 text" });
  }
  const lineCount = text.split("\n").length;
  if (lineCount > MAX_IMPORT_LINES + 1) throw new InvalidArgumentError({ field: "content", description: `must have at most ${MAX_IMPORT_LINES} lines` });
  const parsed = format === ImportFormat.CSV ? parseCsv(text) : parseJsonLines(text);

  const categories = await categoryIdsByKey(em, [...new Set(parsed.flatMap((p) => (p.input && p.input.category !== "" ? [p.input.category] : [])))]);
  const slugs = new Set<string>();
  const skus = new Set<string>();
  const report: ImportReport = { created: 0, updated: 0, rejected: [] };
  const valid: ParsedLine[] = [];
  for (const line of parsed) {
    const input = line.input;
    if (input) {
      input.categoryId = categories.get(input.category) ?? "";
      if (input.category === "") line.violations.push({ field: "category", description: "is required (a category slug or id)" });
      else if (input.categoryId === "") line.violations.push({ field: "category", description: `no category "${input.category}"` });
      else line.violations.push(...productViolations(input, "").filter((v) => v.field !== "category_id"));
      if (slugs.has(input.slug)) line.violations.push({ field: "slug", description: "appears on an earlier line" });
      for (const variant of input.variants) if (skus.has(variant.sku)) line.violations.push({ field: "sku", description: `${variant.sku} appears on an earlier line` });
    }
    if (line.violations.length > 0 || !input) {
      report.rejected.push({ line: line.line, violations: line.violations });
      continue;
    }
    slugs.add(input.slug);
    for (const variant of input.variants) skus.add(variant.sku);
    valid.push(line);
  }
  if (valid.length === 0) return report;

  // SKUs held by other products (not the one the line updates) reject the line.
  const tables = typedQueries(em, catalogEntities);
  const owners = skus.size === 0 ? [] : await tables.selectFrom("variant as v").innerJoin("product as p", "p.id", "v.product_id").select(["v.sku", "p.slug"]).where("v.sku", "in", [...skus]).execute();
  const ownerOf = new Map(owners.map((o) => [o.sku, o.slug]));
  const existing = new Map(
    (slugs.size === 0 ? [] : await tables.selectFrom("product").select(["id", "slug", "status"]).where("slug", "in", [...slugs]).execute()).map((r) => [r.slug, r]),
  );
  const apply: ParsedLine[] = [];
  for (const line of valid) {
    const input = line.input!;
    const taken = input.variants.filter((v) => ownerOf.has(v.sku) && ownerOf.get(v.sku) !== input.slug);
    if (taken.length > 0) line.violations.push({ field: "sku", description: `${taken.map((t) => t.sku).join(", ")} belongs to another product` });
    if (existing.get(input.slug)?.status === "archived") line.violations.push({ field: "slug", description: "names an archived product" });
    if (line.violations.length > 0) report.rejected.push({ line: line.line, violations: line.violations });
    else apply.push(line);
  }
  report.rejected.sort((a, b) => a.line - b.line);
  for (const line of apply) {
    const input = line.input!;
    const current = existing.get(input.slug);
    if (!validateOnly) {
      if (current) {
        await currentInput(em, current.id); // locks the row
        await rewriteProduct(em, current.id, input, updatablePaths);
      } else await insertProduct(em, input);
    }
    if (current) report.updated++;
    else report.created++;
  }
  return report;
}
