// The shop's default shipping set-up, for `npm run seed` and test meshes: domestic (US), the EU and
// the rest of the world, each with standard and express; standard is free over a threshold at home
// and in the EU. Prices for parcels under 2 kg are the former flat-rate table's, so a light parcel
// costs what it used to. Idempotent: a zone that exists by name is left as it is.
import countries from "i18n-iso-countries";
import type { Database } from "@bazaar/platform";
import { createMethod } from "./methods.ts";
import type { Rate } from "./rates.ts";
import type { MethodFields } from "./validation.ts";
import { createZone, tables } from "./zones.ts";
import type { Area } from "./zone-match.ts";

export const HOME_COUNTRY = "US";
export const EU_COUNTRIES = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"];

type Prices = Record<"USD" | "EUR" | "GBP", number>;

/** Weight tiers: the base price to 2 kg, then +50 % to 10 kg, then +150 %; nothing over 30 kg. */
function byWeight(base: Prices, freeOver?: Prices): Rate[] {
  return (Object.keys(base) as (keyof Prices)[]).map((currency) => ({
    currency,
    rule: {
      kind: "weight",
      tiers: [
        { from: 0, price: base[currency] },
        { from: 2_000, price: Math.round(base[currency] * 1.5) },
        { from: 10_000, price: Math.round(base[currency] * 2.5) },
      ],
      max: 30_000,
    },
    ...(freeOver ? { freeOver: freeOver[currency] } : {}),
  }));
}

const method = (code: string, name: string, serviceLevel: string, minDays: number, maxDays: number, rates: Rate[]): MethodFields => ({
  code,
  name,
  carrier: "test",
  serviceLevel,
  minDays,
  maxDays,
  active: true,
  rates,
});

export interface DefaultZone {
  name: string;
  areas: Area[];
  methods: MethodFields[];
}

const country = (countryCode: string): Area => ({ countryCode, region: "", postalPrefix: "" });

export const defaultZones: DefaultZone[] = [
  {
    name: "Domestic",
    areas: [country(HOME_COUNTRY)],
    methods: [
      method("standard", "Standard", "ground", 3, 5, byWeight({ USD: 599, EUR: 549, GBP: 499 }, { USD: 5_000, EUR: 5_000, GBP: 4_500 })),
      method("express", "Express", "express", 1, 2, byWeight({ USD: 1_499, EUR: 1_399, GBP: 1_299 })),
    ],
  },
  {
    name: "European Union",
    areas: EU_COUNTRIES.map(country),
    methods: [
      method("standard", "Standard", "ground", 5, 8, byWeight({ USD: 1_499, EUR: 1_299, GBP: 1_199 }, { USD: 15_000, EUR: 12_000, GBP: 11_000 })),
      method("express", "Express", "express", 2, 4, byWeight({ USD: 3_499, EUR: 2_999, GBP: 2_799 })),
    ],
  },
  {
    name: "Rest of world",
    areas: Object.keys(countries.getAlpha2Codes())
      .filter((code) => code !== HOME_COUNTRY && !EU_COUNTRIES.includes(code))
      .sort()
      .map(country),
    methods: [
      method("standard", "Standard", "ground", 7, 14, byWeight({ USD: 1_999, EUR: 1_799, GBP: 1_599 })),
      method("express", "Express", "express", 3, 5, byWeight({ USD: 3_999, EUR: 3_599, GBP: 3_299 })),
    ],
  },
];

/** Creates the default zones (and their methods) missing by name; how many zones were created. */
export async function seedShipping(database: Database, zones: readonly DefaultZone[] = defaultZones): Promise<number> {
  let created = 0;
  for (const zone of zones) {
    const exists = await tables(database.em()).selectFrom("shipping_zone").select("id").where("name", "=", zone.name).executeTakeFirst();
    if (exists) continue;
    const { id } = await createZone(database, { name: zone.name, areas: zone.areas });
    for (const m of zone.methods) await createMethod(database, { ...m, zoneId: id });
    created += 1;
  }
  return created;
}
