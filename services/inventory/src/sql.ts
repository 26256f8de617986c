// Coercion for the numbers the inventory's raw SQL returns (bigint columns come back as text; the
// reads written with typedQueries get numbers from the entities' types).
export const toNumber = (value: unknown): number => (typeof value === "number" ? value : Number(value));
