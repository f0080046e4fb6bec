/** What runs, or is queued, for one key: the last exclusive task and the shared tasks after it. */
interface Lane {
  /** Settles when the last exclusive task handed in has ended (at once when there was none). */
  barrier: Promise<void>;
  /** The shared tasks handed in since that exclusive one, settling when each ends. */
  shared: Set<Promise<void>>;
  /** Tasks of this lane not ended yet: the lane is forgotten when none is left. */
  pending: number;
}

const ignore = (): void => undefined;

/**
 * Runs tasks per key in the order they were handed in. An exclusive task (`run`) starts once every
 * task handed in before it has ended; shared tasks (`runShared`) wait only for the exclusive task
 * before them, and overlap one another. A task that fails does not stop the ones after it. Keys
 * with nothing queued hold no memory.
 */
export class KeyedSerial {
  private readonly lanes = new Map<string, Lane>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.lanes.get(key);
    const before = previous ? Promise.all([previous.barrier, ...previous.shared]) : Promise.resolve();
    const result = before.then(task);
    const lane: Lane = { barrier: result.then(ignore, ignore), shared: new Set(), pending: 1 };
    this.lanes.set(key, lane);
    void lane.barrier.then(() => this.ended(key, lane));
    return result;
  }

  runShared<T>(key: string, task: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { barrier: Promise.resolve(), shared: new Set(), pending: 0 };
      this.lanes.set(key, lane);
    }
    const current = lane;
    const result = current.barrier.then(task);
    const settled = result.then(ignore, ignore);
    current.shared.add(settled);
    current.pending++;
    void settled.then(() => {
      current.shared.delete(settled);
      this.ended(key, current);
    });
    return result;
  }

  private ended(key: string, lane: Lane): void {
    lane.pending--;
    if (lane.pending === 0 && this.lanes.get(key) === lane) this.lanes.delete(key);
  }
}
