// Batching: which deliveries are applied together in one transaction, and when a batch falls back to
// one-by-one handling. Pure (no NATS, no database), so it is unit-tested on plain values.

/**
 * Groups what `source` yields: each batch starts with the next item and takes the items already
 * buffered behind it (at most `maxBatch`), so nothing waits for a batch to fill. With `ordered` false
 * (concurrency above 1), batches of one.
 */
export async function* batches<T>(source: AsyncIterable<T>, options: { maxBatch: number; ordered: boolean }): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  const notYet = Symbol("not yet");
  let carried: Promise<IteratorResult<T>> | undefined;
  for (;;) {
    const first = await (carried ?? iterator.next());
    carried = undefined;
    if (first.done) return;
    const batch = [first.value];
    let ended = false;
    while (options.ordered && batch.length < options.maxBatch) {
      const next = iterator.next();
      // An item already buffered resolves before the next turn of the event loop.
      const ready = await Promise.race([next, new Promise<typeof notYet>((resolve) => setImmediate(resolve, notYet))]);
      if (ready === notYet) {
        carried = next;
        break;
      }
      if (ready.done) {
        ended = true;
        break;
      }
      batch.push(ready.value);
    }
    yield batch;
    if (ended) return;
  }
}

/** What planBatch needs to know of a delivery. */
export interface Delivery {
  info: { deliveryCount: number };
}

export interface Prepared<M, H, E> {
  message: M;
  handler: H;
  event: E;
}

export interface BatchPlan<M, H, E> {
  /** Types without a handler (a whole domain's stream is read before NATS 2.10): only acknowledged, one by one. */
  ignored: M[];
  /** The deliveries with a handler, in order. */
  handled: M[];
  /**
   * Decoded, for one transaction; undefined when `handled` must go one by one instead (a
   * redelivery, or bytes that do not decode: the careful path owns retries and dead letters).
   */
  prepared: Prepared<M, H, E>[] | undefined;
}

/** Splits deliveries that arrived together into the ignored, and the handled with their decoded events. */
export function planBatch<M extends Delivery, H, E>(
  messages: readonly M[],
  handlerFor: (message: M) => H | undefined,
  decode: (handler: H, message: M) => E,
): BatchPlan<M, H, E> {
  const ignored: M[] = [];
  const withHandler: { message: M; handler: H }[] = [];
  for (const message of messages) {
    const handler = handlerFor(message);
    if (handler === undefined) ignored.push(message);
    else withHandler.push({ message, handler });
  }
  const handled = withHandler.map((w) => w.message);
  const prepared: Prepared<M, H, E>[] = [];
  for (const { message, handler } of withHandler) {
    if (message.info.deliveryCount !== 1) return { ignored, handled, prepared: undefined };
    try {
      prepared.push({ message, handler, event: decode(handler, message) });
    } catch {
      return { ignored, handled, prepared: undefined };
    }
  }
  return { ignored, handled, prepared };
}

/**
 * Whether each of `eventIds` (in batch order) is applied, given the ids the inbox insert reported new:
 * a copy of an event seen earlier in the same batch counts once, like any duplicate.
 */
export function freshInOrder(eventIds: readonly string[], inserted: ReadonlySet<string>): boolean[] {
  const fresh = new Set(inserted);
  return eventIds.map((id) => fresh.delete(id));
}
