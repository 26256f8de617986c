// At most `limit` calls at once in this process; the rest wait in line here, not in the database
// pool. A hot promotion's checkouts queue on its row; bounded below the pool size, they leave a
// connection free for everything else (readiness checks, staff, reads), so a burst of 200 checkouts
// does not make the instance look dead to Consul.
export interface Gate {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function createGate(limit: number): Gate {
  let running = 0;
  const waiting: Array<() => void> = [];
  return {
    async run(work) {
      if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      else running++;
      try {
        return await work();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else running--;
      }
    },
  };
}
