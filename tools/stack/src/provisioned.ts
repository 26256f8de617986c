import type { ManagedProcess } from "./processes.ts";

/** A piece of infrastructure the stack settled on: one that already answered, or a private instance. */
export interface Provisioned {
  name: string;
  /** Where clients reach it (URL or host:port). */
  address: string;
  /** The private instance the stack started, when nothing answered at the configured address. */
  process?: ManagedProcess;
}
