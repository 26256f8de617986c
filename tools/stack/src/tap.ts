/** Counts TAP test points (`ok`, `not ok`, with `# SKIP`/`# TODO` directives) line by line. */
export function tally() {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  return {
    add(line: string): void {
      const point = /^(not )?ok\b(?:[^#]*)(?:#\s*(skip|todo)\b)?/i.exec(line);
      if (!point) return;
      if (point[2]) skipped += 1;
      else if (point[1]) failed += 1;
      else passed += 1;
    },
    result: () => ({ passed, failed, skipped }),
  };
}
