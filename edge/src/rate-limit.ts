// Token buckets per client address and per user. Limits come from Consul KV (watchConsulKv) so they
// change at run time; a bucket refills continuously at `perSecond` up to `burst`.
import { z } from "zod";

export const rateLimitsSchema = z
  .object({
    perAddress: z.object({ perSecond: z.number().positive(), burst: z.number().int().positive() }),
    perUser: z.object({ perSecond: z.number().positive(), burst: z.number().int().positive() }),
  })
  .default({ perAddress: { perSecond: 200, burst: 400 }, perUser: { perSecond: 100, burst: 200 } });

export type RateLimits = z.output<typeof rateLimitsSchema>;
export interface Limit {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export interface RateLimiter {
  /** Takes a token; returns 0 when allowed, else the seconds to wait before one is available. */
  take(key: string, limit: Limit): number;
}

/** Buckets idle long enough to be full again are dropped, so the map stays bounded by active clients. */
export function createRateLimiter(options: { now?: () => number; maxKeys?: number } = {}): RateLimiter {
  const now = options.now ?? (() => performance.now());
  const maxKeys = options.maxKeys ?? 100_000;
  const buckets = new Map<string, Bucket>();
  let lastSweep = now();
  return {
    take(key, limit) {
      const t = now();
      if (t - lastSweep > 10_000 || buckets.size > maxKeys) {
        lastSweep = t;
        for (const [k, b] of buckets) if ((t - b.at) / 1000 > b.tokens + 60) buckets.delete(k);
      }
      let bucket = buckets.get(key);
      if (!bucket) buckets.set(key, (bucket = { tokens: limit.burst, at: t }));
      bucket.tokens = Math.min(limit.burst, bucket.tokens + ((t - bucket.at) / 1000) * limit.perSecond);
      bucket.at = t;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond));
    },
  };
}
