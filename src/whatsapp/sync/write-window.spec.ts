import { WriteWindow, writeConcurrency } from './write-window';

interface Gate {
  promise: Promise<void>;
  open: () => void;
  fail: (error: Error) => void;
}

function gateOf(): Gate {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

/** Lets every callback queued so far run. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('WriteWindow', () => {
  it('runs up to its limit at once and starts the next as soon as one ends', async () => {
    const window = new WriteWindow(2);
    const gates = [gateOf(), gateOf(), gateOf()];
    const started: number[] = [];
    const write = (i: number) => () => {
      started.push(i);
      return gates[i].promise;
    };
    await window.start(['a'], () => undefined, write(0));
    await window.start(['b'], () => undefined, write(1));
    const third = window.start(['c'], () => undefined, write(2));
    await turn();
    expect(started).toEqual([0, 1]);
    gates[1].open();
    await third;
    expect(started).toEqual([0, 1, 2]);
    gates[0].open();
    gates[2].open();
    await window.settled();
  });

  it('never overlaps two writes that share an id, even with free slots', async () => {
    const window = new WriteWindow(4);
    const first = gateOf();
    const started: string[] = [];
    await window.start(['x', 'shared'], () => undefined, () => {
      started.push('first');
      return first.promise;
    });
    const second = window.start(['shared', 'y'], () => undefined, async () => void started.push('second'));
    await turn();
    expect(started).toEqual(['first']);
    first.open();
    await (await second).done;
    expect(started).toEqual(['first', 'second']);
  });

  it('a failed write frees its slot; its caller gets the error through `done`', async () => {
    const window = new WriteWindow(1);
    const failing = gateOf();
    const { done } = await window.start(['a'], () => undefined, () => failing.promise);
    const next = window.start(['a'], () => undefined, async () => 'second');
    failing.fail(new Error('write failed'));
    await expect(done).rejects.toThrow('write failed');
    await expect((await next).done).resolves.toBe('second');
  });

  it('a guard that throws starts nothing, and the window stays usable', async () => {
    const window = new WriteWindow(1);
    const write = jest.fn(async () => 'written');
    await expect(window.start(['a'], () => { throw new Error('refused'); }, write)).rejects.toThrow('refused');
    expect(write).not.toHaveBeenCalled();
    await expect((await window.start(['a'], () => undefined, write)).done).resolves.toBe('written');
  });

  it('calls the guard only once the write may start, and `settled` waits for every write started', async () => {
    const window = new WriteWindow(1);
    const first = gateOf();
    const events: string[] = [];
    await window.start(['a'], () => void events.push('guard 1'), () => first.promise.then(() => void events.push('write 1 end')));
    const second = window.start(['b'], () => void events.push('guard 2'), async () => void events.push('write 2'));
    await turn();
    expect(events).toEqual(['guard 1']);
    first.open();
    await second;
    await window.settled();
    expect(events).toEqual(['guard 1', 'write 1 end', 'guard 2', 'write 2']);
  });

  it('refuses a limit below 1', () => {
    expect(() => new WriteWindow(0)).toThrow('a write window holds at least 1 write, not 0');
  });

  it('writes as many chats at once as the pool leaves connections for, from 1 to 4', () => {
    expect([1, 2, 3, 4, 5, 10, 200].map(writeConcurrency)).toEqual([1, 1, 2, 3, 4, 4, 4]);
  });
});
