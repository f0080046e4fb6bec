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
});
