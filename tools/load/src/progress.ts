// The live line on a terminal: journeys/s of the last full second, p50/p99 of the last five, errors so far.
import { mergedSeconds, percentilesOf, type Recorder } from "./recorder.ts";

export function progressLine(recorder: Recorder, elapsedSeconds: number, durationSeconds: number): string {
  const current = Math.floor(elapsedSeconds);
  const lastFull = recorder.seconds[current - 1];
  const recent = mergedSeconds(recorder.seconds, Math.max(0, current - 5), current);
  const p = percentilesOf(recent.histogram);
  const { journeys, errors, dropped } = recorder.totals();
  const ratio = ((errors + dropped) / Math.max(1, journeys + dropped)) * 100;
  return `${Math.floor(elapsedSeconds)}/${durationSeconds}s  ${lastFull?.journeys ?? 0} journeys/s  p50 ${p.p50.toFixed(1)} ms  p99 ${p.p99.toFixed(1)} ms  errors ${errors + dropped} (${ratio.toFixed(2)}%)  total ${journeys}`;
}
