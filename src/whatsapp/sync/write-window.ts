interface InFlight {
  ids: ReadonlySet<string>;
  /** Settles (never rejects) once the write has ended and left the window. */
  left: Promise<void>;
}

/**
 * Up to `limit` writes at once, started in the order they are handed in. A write never starts while
 * an earlier one that shares an id with it is still running, so that for any id the writes happen
 * in their order: a sync stores several chats at a time, yet an id two chats list is written by
 * both in their order, exactly as one after another would.
 */
export class WriteWindow {
  private readonly inFlight = new Set<InFlight>();

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a write window holds at least 1 write, not ${limit}`);
  }

  /**
   * Waits for a free slot with no running write sharing one of `ids`, then calls `guard` (which may
   * throw to refuse the write: nothing is started then) and starts `write`. Answers once it started,
   * with the write's own promise in `done`. Calls must not overlap: await each before the next.
   */
  async start<T>(ids: readonly string[], guard: () => void, write: () => Promise<T>): Promise<{ done: Promise<T> }> {
    const own = new Set(ids);
    for (;;) {
      const blocking = [...this.inFlight].filter((w) => this.inFlight.size >= this.limit || sharesAnId(w.ids, own));
      if (blocking.length === 0) break;
      await Promise.race(blocking.map((w) => w.left));
    }
    guard();
    const done = write();
    const entry: InFlight = {
      ids: own,
      left: done.then(
        () => void this.inFlight.delete(entry),
        () => void this.inFlight.delete(entry),
      ),
    };
    this.inFlight.add(entry);
    return { done };
  }

  /** Settles once every write started so far has ended. */
  async settled(): Promise<void> {
    await Promise.all([...this.inFlight].map((w) => w.left));
  }
}

function sharesAnId(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const id of small) if (large.has(id)) return true;
  return false;
}

/** Chats a run writes at once at most: 8 measured barely faster than 4 on 2 cores. */
export const MAX_WRITE_CONCURRENCY = 4;

/**
 * How many chats a run writes at once with a pool of `poolSize` connections: each write holds one,
 * and one is left for the run's own row, live messages and reads, so that a slow write never makes
 * the others wait past the pool's connection timeout (a pool of 1 or 2 writes one chat at a time).
 */
export function writeConcurrency(poolSize: number): number {
  return Math.max(1, Math.min(MAX_WRITE_CONCURRENCY, poolSize - 1));
}
