// Which zone a destination belongs to: of the areas that match it, the most specific one. An area
// matches when its country is the destination's, its region (if set) is the destination's, and the
// destination's postal code starts with its prefix (if set). Most specific: the longest postal prefix
// first, then an area with a region over one without. Areas are unique by (country, region, prefix)
// (the table's primary key), so for any destination at most one area has each (prefix length,
// region-or-not) rank: the winner is never a tie.

export interface Area {
  countryCode: string;
  /** "" for any region. */
  region: string;
  /** "" for any postal code. */
  postalPrefix: string;
}

export interface Destination {
  countryCode: string;
  region: string;
  postalCode: string;
}

/** "us-ca", "CA", " ca " → "CA" for country US: the subdivision code without the country. */
export function normalizeRegion(countryCode: string, region: string): string {
  const upper = region.trim().toUpperCase();
  return upper.startsWith(`${countryCode}-`) ? upper.slice(countryCode.length + 1) : upper;
}

/** Postal codes compare by letters and digits only, upper case: "sw1a 1aa" → "SW1A1AA", "94103-1234" → "941031234". */
export const normalizePostalCode = (postalCode: string): string => postalCode.toUpperCase().replace(/[^A-Z0-9]/g, "");

/** The destination as areas are matched against it (country and region upper case, postal code normalised). */
export function normalizeDestination(destination: Destination): Destination {
  const countryCode = destination.countryCode.trim().toUpperCase();
  return { countryCode, region: normalizeRegion(countryCode, destination.region), postalCode: normalizePostalCode(destination.postalCode) };
}

export function matches(area: Area, destination: Destination): boolean {
  return (
    area.countryCode === destination.countryCode &&
    (area.region === "" || area.region === destination.region) &&
    destination.postalCode.startsWith(area.postalPrefix)
  );
}

/** Larger is more specific: prefix length dominates, a region breaks the tie. */
export const specificity = (area: Area): number => area.postalPrefix.length * 2 + (area.region === "" ? 0 : 1);

/** The most specific area matching a normalised destination, or undefined when none does. */
export function mostSpecific<A extends Area>(areas: readonly A[], destination: Destination): A | undefined {
  let best: A | undefined;
  for (const area of areas) {
    if (matches(area, destination) && (best === undefined || specificity(area) > specificity(best))) best = area;
  }
  return best;
}
