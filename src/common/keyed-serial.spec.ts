import { KeyedSerial } from './keyed-serial';

function gateOf(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('KeyedSerial', () => {
  it('runs the tasks of one key one after another, in order, and other keys meanwhile', async () => {
    const serial = new KeyedSerial();
    const order: string[] = [];
    const first = gateOf();
    const a1 = serial.run('a', async () => {
      order.push('a1 start');
      await first.promise;
      order.push('a1 end');
    });
    const a2 = serial.run('a', async () => void order.push('a2'));
    await serial.run('b', async () => void order.push('b1'));
    expect(order).toEqual(['a1 start', 'b1']);
    first.open();
    await Promise.all([a1, a2]);
    expect(order).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
  });

  it('goes on after a failed task, whose caller gets the error', async () => {
    const serial = new KeyedSerial();
    const failed = serial.run('a', async () => {
      throw new Error('boom');
    });
    const next = serial.run('a', async () => 42);
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
  });

  it('overlaps shared tasks, which wait for the exclusive task before them; an exclusive task waits for every shared one before it', async () => {
    const serial = new KeyedSerial();
    const order: string[] = [];
    const gates = { x1: gateOf(), s1: gateOf(), s2: gateOf() };
    const x1 = serial.run('a', async () => {
      order.push('x1 start');
      await gates.x1.promise;
      order.push('x1 end');
    });
    const s1 = serial.runShared('a', async () => {
      order.push('s1 start');
      await gates.s1.promise;
      order.push('s1 end');
    });
    const s2 = serial.runShared('a', async () => {
      order.push('s2 start');
      await gates.s2.promise;
      order.push('s2 end');
    });
    const x2 = serial.run('a', async () => void order.push('x2'));
    const s3 = serial.runShared('a', async () => void order.push('s3'));
    await serial.run('b', async () => void order.push('b'));
    expect(order).toEqual(['x1 start', 'b']);

    gates.x1.open();
    await x1;
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['x1 start', 'b', 'x1 end', 's1 start', 's2 start']);
    gates.s2.open();
    await s2;
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['x1 start', 'b', 'x1 end', 's1 start', 's2 start', 's2 end']);
    gates.s1.open();
    await Promise.all([s1, x2, s3]);
    expect(order).toEqual(['x1 start', 'b', 'x1 end', 's1 start', 's2 start', 's2 end', 's1 end', 'x2', 's3']);
  });

  it('a failed shared task holds up nothing and its caller gets the error', async () => {
    const serial = new KeyedSerial();
    const failed = serial.runShared('a', async () => {
      throw new Error('boom');
    });
    const shared = serial.runShared('a', async () => 1);
    const exclusive = serial.run('a', async () => 2);
    await expect(failed).rejects.toThrow('boom');
    await expect(Promise.all([shared, exclusive])).resolves.toEqual([1, 2]);
  });
});

