type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs `load` for items ahead of the one being consumed, at most `window` at a time, and hands the
 * results out strictly in order. A sync waiting on WhatsApp for each chat overlaps those waits while
 * its events keep the contract's order; memory holds at most `window` results.
 */
export class OrderedPrefetch<I, T> {
  private readonly pending = new Map<number, Promise<Settled<T>>>();
  private nextToStart = 0;

  constructor(
    private readonly items: readonly I[],
    private readonly window: number,
    private readonly load: (item: I, index: number) => Promise<T>,
  ) {}

  /** The result for `index`; must be called with 0, 1, 2, ... in order. */
  async take(index: number): Promise<T> {
    this.fill(index);
    const settled = await this.pending.get(index)!;
    this.pending.delete(index);
    this.fill(index + 1);
    if (!settled.ok) throw settled.error;
    return settled.value;
  }

  private fill(from: number): void {
    if (this.nextToStart < from) this.nextToStart = from;
    while (this.nextToStart < this.items.length && this.nextToStart < from + this.window) {
      const index = this.nextToStart++;
      // Settled, never rejected: a failure ahead of the consumer must not become an unhandled rejection.
      this.pending.set(
        index,
        this.load(this.items[index], index).then(
          (value) => ({ ok: true, value }),
          (error: unknown) => ({ ok: false, error }),
        ),
      );
    }
  }
}
