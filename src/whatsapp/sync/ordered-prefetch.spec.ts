import { OrderedPrefetch } from './ordered-prefetch';

/** A load the test settles by hand, so in-flight counts are exact and nothing depends on time. */
interface Controlled<T> {
  index: number;
  resolve(value: T): void;
  reject(error: unknown): void;
}

class Loads<T> {
  readonly started: Controlled<T>[] = [];
  inFlight = 0;
  maxInFlight = 0;

  readonly load = (_item: unknown, index: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      let settled = false;
      const settle = () => {
        if (!settled) this.inFlight--;
        settled = true;
      };
      this.started.push({
        index,
        resolve: (value) => {
          settle();
          resolve(value);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
    });

  get indices(): number[] {
    return this.started.map((s) => s.index);
  }

  of(index: number): Controlled<T> {
    const found = this.started.find((s) => s.index === index);
    if (!found) throw new Error(`load ${index} was not started`);
    return found;
  }
}

/** Lets every queued promise callback run (no timers involved). */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Tracks the state of a promise without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

describe('OrderedPrefetch', () => {
  it('starts nothing before the first take', async () => {
    const loads = new Loads<string>();
    new OrderedPrefetch(['a', 'b', 'c'], 2, loads.load);
    await flush();
    expect(loads.started).toHaveLength(0);
  });

  it('hands results out in order even when loads settle in reverse', async () => {
    const loads = new Loads<string>();
    const items = ['a', 'b', 'c', 'd'];
    const prefetch = new OrderedPrefetch(items, 4, loads.load);
    const first = track(prefetch.take(0));
    await flush();
    expect(loads.indices).toEqual([0, 1, 2, 3]);
    for (const index of [3, 2, 1]) loads.of(index).resolve(`r${index}`);
    await flush();
    expect(first.settled).toBe(false);
    loads.of(0).resolve('r0');
    await flush();
    expect(first).toEqual({ settled: true, value: 'r0' });
    expect(await prefetch.take(1)).toBe('r1');
    expect(await prefetch.take(2)).toBe('r2');
    expect(await prefetch.take(3)).toBe('r3');
  });

  it('passes each item and its index to load', async () => {
    const seen: [string, number][] = [];
    const prefetch = new OrderedPrefetch(['x', 'y', 'z'], 2, async (item: string, index) => {
      seen.push([item, index]);
      return `${item}${index}`;
    });
    expect([await prefetch.take(0), await prefetch.take(1), await prefetch.take(2)]).toEqual(['x0', 'y1', 'z2']);
    expect(seen).toEqual([
      ['x', 0],
      ['y', 1],
      ['z', 2],
    ]);
  });

  it('fetches ahead: a take starts the next `window` loads at once', async () => {
    const loads = new Loads<number>();
    const prefetch = new OrderedPrefetch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, loads.load);
    const first = track(prefetch.take(0));
    await flush();
    expect(loads.indices).toEqual([0, 1, 2]);
    // Loads 1 and 2 finish while the consumer still waits on 0.
    loads.of(1).resolve(1);
    loads.of(2).resolve(2);
    await flush();
    expect(first.settled).toBe(false);
    expect(loads.indices).toEqual([0, 1, 2]);
    loads.of(0).resolve(0);
    await flush();
    expect(first).toEqual({ settled: true, value: 0 });
    // Taking 0 frees a slot: load 3 starts before anyone asks for 1.
    expect(loads.indices).toEqual([0, 1, 2, 3]);
    // 1 and 2 were loaded ahead: they are handed out without new waiting.
    expect(await prefetch.take(1)).toBe(1);
    expect(await prefetch.take(2)).toBe(2);
    expect(loads.indices).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it.each([1, 2, 3, 5])('never has more than window=%i loads in flight or held', async (window) => {
    const loads = new Loads<number>();
    const n = 12;
    const prefetch = new OrderedPrefetch(Array.from({ length: n }, (_, i) => i), window, loads.load);
    const results: number[] = [];
    for (let index = 0; index < n; index++) {
      const taking = prefetch.take(index);
      const state = track(taking);
      await flush();
      // Started but not yet handed out: never more than `window`.
      const handedOut = state.settled ? index + 1 : index;
      expect(loads.started.length - handedOut).toBeLessThanOrEqual(window);
      expect(loads.inFlight).toBeLessThanOrEqual(window);
      // Settle every pending load, newest first, so later ones often finish before earlier ones.
      for (const load of [...loads.started].reverse()) load.resolve(load.index * 10);
      results.push(await taking);
    }
    expect(results).toEqual(Array.from({ length: n }, (_, i) => i * 10));
    expect(loads.maxInFlight).toBe(Math.min(window, n));
    expect(loads.indices).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('keeps exactly `window` in flight while loads never settle early', async () => {
    const loads = new Loads<number>();
    const prefetch = new OrderedPrefetch([0, 1, 2, 3, 4, 5, 6], 2, loads.load);
    for (let index = 0; index < 7; index++) {
      const taking = track(prefetch.take(index));
      await flush();
      expect(loads.inFlight).toBe(Math.min(2, 7 - index));
      loads.of(index).resolve(index);
      await flush();
      expect(taking).toEqual({ settled: true, value: index });
    }
    expect(loads.maxInFlight).toBe(2);
  });

  it('handles a window larger than the list and an empty list', async () => {
    const loads = new Loads<number>();
    const prefetch = new OrderedPrefetch([0, 1], 10, loads.load);
    const first = prefetch.take(0);
    await flush();
    expect(loads.indices).toEqual([0, 1]);
    loads.of(0).resolve(0);
    loads.of(1).resolve(1);
    expect(await first).toBe(0);
    expect(await prefetch.take(1)).toBe(1);
    expect(loads.started).toHaveLength(2);

    const none = new Loads<number>();
    new OrderedPrefetch([], 3, none.load);
    expect(none.started).toHaveLength(0);
  });

  // jest-circus fails the running test on any unhandled rejection (checked: a bare
  // `void Promise.reject(...)` at this point fails this test), so passing proves there was none.
  it('a rejection ahead of the consumer is not unhandled and is rethrown only when its index is taken', async () => {
    const loads = new Loads<string>();
    const prefetch = new OrderedPrefetch(['a', 'b', 'c', 'd'], 3, loads.load);
    const first = track(prefetch.take(0));
    await flush();
    const failure = new Error('load 1 failed');
    const failure3 = new Error('load 3 failed');
    loads.of(1).reject(failure);
    // Let Node's rejection tracking run: it reports once the microtask queue has drained.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(first.settled).toBe(false);

    loads.of(0).resolve('A');
    loads.of(2).resolve('C');
    expect(await prefetch.take(0)).toBe('A');
    await expect(prefetch.take(1)).rejects.toBe(failure);
    expect(await prefetch.take(2)).toBe('C');
    loads.of(3).reject(failure3);
    await expect(prefetch.take(3)).rejects.toBe(failure3);
  });

  it('a rejection nobody ever takes is not unhandled either', async () => {
    const loads = new Loads<string>();
    const prefetch = new OrderedPrefetch(['a', 'b'], 2, loads.load);
    const head = prefetch.take(0);
    await flush();
    loads.of(1).reject(new Error('never taken'));
    loads.of(0).resolve('a');
    expect(await head).toBe('a');
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  });
});
