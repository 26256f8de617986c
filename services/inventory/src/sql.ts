// Coercions for the numbers the inventory's raw SQL returns (bigint columns come back as text).
export const toNumber = (value: unknown): number => (typeof value === "number" ? value : Number(value));
