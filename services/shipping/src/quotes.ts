// Quotes: the active methods of the destination's zone priced for a parcel and subtotal, stored so
// that checkout charges what was shown. A client holds only the quote's id; the check at checkout
// compares what is being bought (destination, currency, subtotal, lines) with what was quoted.
import { createHash } from "node:crypto";
import { FailedPreconditionError, NotFoundError, type Database } from "@bazaar/platform";
import { sql } from "kysely";
import { uuidv7 } from "uuidv7";
import { priceOf, type Rate } from "./rates.ts";
import type { ParcelLine } from "./validation.ts";
import { mostSpecific, type Destination } from "./zone-match.ts";
import { tables } from "./zones.ts";

export interface QuoteOption {
  optionId: string;
  methodId: string;
  displayName: string;
  carrier: string;
  serviceLevel: string;
  /** Minor units of the quote's currency. */
  price: number;
  minDays: number;
  maxDays: number;
}

export interface QuoteView {
  id: string;
  destination: Destination;
  currency: string;
  subtotal: bigint;
  totalWeightGrams: bigint;
  zoneId: string | undefined;
  options: QuoteOption[];
  createdAt: Date;
  expiresAt: Date;
}

export interface QuoteInput {
  /** Normalised (see normalizeDestination). */
  destination: Destination;
  lines: readonly ParcelLine[];
  currency: string;
  subtotal: bigint;
}

export const totalWeight = (lines: readonly ParcelLine[]): bigint => lines.reduce((sum, line) => sum + BigInt(line.quantity) * BigInt(line.weightGrams), 0n);

/** The lines as a checkout compares them: order does not matter, SKU, quantity and unit weight do. */
export function linesDigest(lines: readonly ParcelLine[]): string {
  const canonical = lines.map((line) => `${line.sku}\t${line.quantity}\t${line.weightGrams}`).sort().join("\n");
  return createHash("sha256").update(canonical).digest("base64url");
}

const estimate = (min: number, max: number) => (min === max ? `${min} day${min === 1 ? "" : "s"}` : `${min}–${max} days`);

/**
 * The options of the destination's zone for a parcel, cheapest first (then fastest, then by code). One
 * query: the country's areas with their zones' active methods (a handful of rows), matched here.
 */
export async function priceOptions(database: Database, input: QuoteInput): Promise<{ zoneId: string | undefined; options: QuoteOption[] }> {
  const rows = await tables(database.em())
    .selectFrom("shipping_zone_area as a")
    .leftJoin("shipping_method as m", (join) => join.onRef("m.zone_id", "=", "a.zone_id").on("m.active", "=", true))
    .select([
      "a.zone_id as zoneId",
      "a.country_code as countryCode",
      "a.region",
      "a.postal_prefix as postalPrefix",
      "m.id as methodId",
      "m.code",
      "m.name",
      "m.carrier",
      "m.service_level as serviceLevel",
      "m.min_days as minDays",
      "m.max_days as maxDays",
      "m.rates",
    ])
    .where("a.country_code", "=", input.destination.countryCode)
    .execute();
  const zone = mostSpecific(rows, input.destination);
  if (!zone) return { zoneId: undefined, options: [] };
  const parcel = { weightGrams: totalWeight(input.lines), subtotal: input.subtotal };
  const options = rows
    .filter((row) => row.methodId !== null && row.zoneId === zone.zoneId && row.region === zone.region && row.postalPrefix === zone.postalPrefix)
    .flatMap((method): QuoteOption[] => {
      const rates = (typeof method.rates === "string" ? JSON.parse(method.rates) : method.rates) as Rate[];
      const rate = rates.find((r) => r.currency === input.currency);
      const price = rate && priceOf(rate, parcel);
      if (price === undefined) return [];
      return [
        {
          optionId: method.code!,
          methodId: method.methodId!,
          displayName: `${method.name} (${estimate(method.minDays!, method.maxDays!)})`,
          carrier: method.carrier!,
          serviceLevel: method.serviceLevel!,
          price: Number(price),
          minDays: method.minDays!,
          maxDays: method.maxDays!,
        },
      ];
    });
  options.sort((a, b) => a.price - b.price || a.minDays - b.minDays || (a.optionId < b.optionId ? -1 : 1));
  return { zoneId: zone.zoneId, options };
}

const quoteSelection = [
  "id",
  "country_code as countryCode",
  "region",
  "postal_code as postalCode",
  "currency",
  "subtotal",
  "total_weight_grams as totalWeightGrams",
  "lines_digest as linesDigest",
  "zone_id as zoneId",
  "options",
  "created_at as createdAt",
  "expires_at as expiresAt",
] as const;

type QuoteRow = { id: string; countryCode: string; region: string; postalCode: string; currency: string; subtotal: unknown; totalWeightGrams: unknown; zoneId: string | null; options: unknown; createdAt: Date; expiresAt: Date };

function toQuote(row: QuoteRow): QuoteView {
  return {
    id: row.id,
    destination: { countryCode: row.countryCode, region: row.region, postalCode: row.postalCode },
    currency: row.currency,
    subtotal: BigInt(String(row.subtotal)),
    totalWeightGrams: BigInt(String(row.totalWeightGrams)),
    zoneId: row.zoneId ?? undefined,
    options: (typeof row.options === "string" ? JSON.parse(row.options) : row.options) as QuoteOption[],
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
  };
}

export interface Quotes {
  quote(input: QuoteInput): Promise<QuoteView>;
  get(id: string): Promise<QuoteView>;
  /** The option at the quoted price when the quote holds for this checkout; FAILED_PRECONDITION otherwise. */
  check(input: QuoteInput & { quoteId: string; optionId: string }): Promise<{ option: QuoteOption; expiresAt: Date }>;
  /** Deletes quotes expired more than `retentionSeconds` ago; how many. */
  sweep(retentionSeconds: number): Promise<number>;
}

export function createQuotes(options: { database: Database; ttlSeconds: number }): Quotes {
  const { database } = options;
  const refuse = (quoteId: string, reason: string, message: string) => new FailedPreconditionError(message, { reason, metadata: { quote_id: quoteId } });
  return {
    async quote(input) {
      const { zoneId, options: priced } = await priceOptions(database, input);
      const row = await tables(database.em())
        .insertInto("shipping_quote")
        .values({
          id: uuidv7(),
          country_code: input.destination.countryCode,
          region: input.destination.region,
          postal_code: input.destination.postalCode,
          currency: input.currency,
          subtotal: input.subtotal,
          total_weight_grams: totalWeight(input.lines),
          lines_digest: linesDigest(input.lines),
          zone_id: zoneId ?? null,
          options: priced,
          expires_at: sql<Date>`clock_timestamp() + make_interval(secs => ${options.ttlSeconds})`,
        })
        .returning(quoteSelection)
        .executeTakeFirstOrThrow();
      return toQuote(row);
    },

    async get(id) {
      const row = await tables(database.em()).selectFrom("shipping_quote").select(quoteSelection).where("id", "=", id).executeTakeFirst();
      if (!row) throw new NotFoundError(`no shipping quote ${id}`, { reason: "QUOTE_NOT_FOUND" });
      return toQuote(row);
    },

    async check(input) {
      const row = await tables(database.em())
        .selectFrom("shipping_quote")
        .select([...quoteSelection, sql<boolean>`expires_at <= clock_timestamp()`.as("expired")])
        .where("id", "=", input.quoteId)
        .executeTakeFirst();
      if (!row) throw refuse(input.quoteId, "QUOTE_NOT_FOUND", "the shipping quote is unknown: ask for shipping options again");
      if (row.expired) throw refuse(input.quoteId, "QUOTE_EXPIRED", "the shipping quote has expired: ask for shipping options again");
      const quote = toQuote(row);
      const d = input.destination;
      const differences = [
        quote.destination.countryCode !== d.countryCode || quote.destination.region !== d.region || quote.destination.postalCode !== d.postalCode ? "destination" : "",
        quote.currency !== input.currency ? "currency" : "",
        quote.subtotal !== input.subtotal ? "subtotal" : "",
        row.linesDigest !== linesDigest(input.lines) ? "items" : "",
      ].filter(Boolean);
      if (differences.length > 0) {
        throw refuse(input.quoteId, "QUOTE_MISMATCH", `the shipping quote was made for another ${differences.join(", ")}: ask for shipping options again`);
      }
      const option = quote.options.find((o) => o.optionId === input.optionId);
      if (!option) throw refuse(input.quoteId, "QUOTE_OPTION_NOT_OFFERED", `"${input.optionId}" is not one of the quote's options`);
      return { option, expiresAt: quote.expiresAt };
    },

    async sweep(retentionSeconds) {
      const result = await tables(database.em())
        .deleteFrom("shipping_quote")
        .where("expires_at", "<", sql<Date>`clock_timestamp() - make_interval(secs => ${retentionSeconds})`)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
