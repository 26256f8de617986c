// CPU time (user + system) processes have used, from /proc: for benchmarks that report what a call
// costs each process. Clock ticks are 10 ms, so spans of a few seconds are what this can measure.
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100;

/** CPU ms a process has used so far (0 once it is gone). */
export function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The pids of the running processes whose command name (comm) is `name`, such as "postgres". */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name) pids.push(Number(entry));
    } catch {
      // gone between the listing and the read
    }
  }
  return pids;
}

/** Named groups of processes; a group named by comm is re-listed at each reading (PostgreSQL forks a backend per connection). */
export type ProcessGroups = Record<string, { pids: number[] } | { comm: string }>;

/**
 * Starts counting: the returned function gives each group's CPU ms since this call. For a group
 * listed by comm, a process that started in between counts from 0 and one that exited is lost
 * (PostgreSQL backends live as long as their pool's connection, the whole run here).
 */
export function cpuSince(groups: ProcessGroups): () => Record<string, number> {
  const pidsOf = (group: ProcessGroups[string]) => ("pids" in group ? group.pids : pidsNamed(group.comm));
  const before = new Map<number, number>();
  for (const group of Object.values(groups)) for (const pid of pidsOf(group)) before.set(pid, cpuMsOf(pid));
  return () =>
    Object.fromEntries(
      Object.entries(groups).map(([name, group]) => [name, pidsOf(group).reduce((sum, pid) => sum + cpuMsOf(pid) - (before.get(pid) ?? 0), 0)]),
    );
}
