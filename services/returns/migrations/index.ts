// Returns' committed migrations, in order. Frozen once written: add new ones at the end.
import type { MigrationEntry } from "@bazaar/platform";
import { ReturnsSchema } from "./returns-0001-schema.ts";
import { ReturnLabelsRestocks } from "./returns-0002-labels-restocks.ts";

export const returnsMigrations: MigrationEntry[] = [
  { name: "returns_0001_schema", class: ReturnsSchema },
  { name: "returns_0002_labels_restocks", class: ReturnLabelsRestocks },
];
