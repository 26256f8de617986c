// Bazaar's ids are UUIDs (v7 when we make them); one check for every service.
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID in its canonical 8-4-4-4-12 hex form. */
export const isUuid = (value: string): boolean => uuidPattern.test(value);
