import { EventEmitter } from 'node:events';
import { SocketWriteCoalescer } from './socket-write-coalescer';

type Packet = { options?: { wsPreEncodedFrame?: Buffer[] } };
type Callback = (error?: Error) => void;

/**
 * An engine.io websocket transport as far as the coalescer sees it: `send` and `sendFrame` log what
 * would reach the TCP stream and keep the completion callback, which a test calls as the kernel would.
 */
function websocketTransport(log: string[], { preEncoded = true } = {}) {
  const pending: Callback[] = [];
  const stream = { cork: () => log.push('cork'), uncork: () => log.push('uncork') };
  const transport = {
    name: 'websocket',
    writable: true,
    socket: {
      _socket: stream,
      _sender: {
        sendFrame: (list: Buffer[], cb: Callback) => {
          log.push(`frame ${list.map(String).join(' + ')}`);
          pending.push(cb);
        },
      },
    },
    _onSentLast: ((error?: Error) => log.push(error ? `failed ${error.message}` : 'completed')) as Callback,
    _canSendPreEncodedFrame: () => preEncoded,
    // engine.io's own send: one frame per packet, the last with `_onSentLast` read at call time.
    send(packets: Packet[]) {
      log.push(`send ${packets.length}`);
      pending.push(this._onSentLast);
    },
  };
  /** The kernel finishing the oldest write in flight. */
  const written = (error?: Error) => pending.shift()!(error);
  return { transport, written };
}

const frame = (text: string): Packet => ({ options: { wsPreEncodedFrame: [Buffer.from('#'), Buffer.from(text)] } });

function attach(transport: object, coalescer = new SocketWriteCoalescer(25)) {
  const connection = Object.assign(new EventEmitter(), { transport });
  coalescer.attach(connection);
  return { connection, coalescer };
}

describe('SocketWriteCoalescer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('completes a write to a quiet socket at once', () => {
    const log: string[] = [];
    const { transport, written } = websocketTransport(log);
    attach(transport);
    transport.send([frame('a')]);
    written();
    expect(log).toEqual(['send 1', 'completed']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('hands a busy socket\'s next completion to engine.io only when the interval ends: one write per interval', () => {
    const log: string[] = [];
    const { transport, written } = websocketTransport(log);
    attach(transport);
    transport.send([frame('a')]);
    written(); // quiet: at once
    transport.send([frame('b')]);
    written(); // within the interval: engine.io keeps queueing
    expect(log).toEqual(['send 1', 'completed', 'send 1']);
    jest.advanceTimersByTime(24);
    expect(log).toHaveLength(3);
    jest.advanceTimersByTime(1);
    expect(log).toEqual(['send 1', 'completed', 'send 1', 'completed']);
    // engine.io now sends its queue; that write completes right after the last one: deferred again.
    transport.send([frame('c'), frame('d')]);
    written();
    expect(log.slice(4)).toEqual(['frame #c#d']);
    jest.advanceTimersByTime(25);
    expect(log.slice(5)).toEqual(['completed']);
  });

  it('passes a write error through at once', () => {
    const log: string[] = [];
    const { transport, written } = websocketTransport(log);
    attach(transport);
    transport.send([frame('a')]);
    written();
    transport.send([frame('b')]);
    written(new Error('EPIPE'));
    expect(log).toEqual(['send 1', 'completed', 'send 1', 'failed EPIPE']);
  });

  it('writes a batch of room frames as one buffer, and makes the transport unwritable until it completes', () => {
    const log: string[] = [];
    const { transport, written } = websocketTransport(log);
    attach(transport);
    transport.send([frame('a'), frame('b'), frame('c')]);
    expect(log).toEqual(['frame #a#b#c']);
    expect(transport.writable).toBe(false);
    written();
    expect(log.slice(1)).toEqual(['completed']);
  });

  it('leaves a batch to engine.io, corked into one write, when it must build the frames itself', () => {
    const log: string[] = [];
    const { transport } = websocketTransport(log, { preEncoded: false });
    attach(transport);
    transport.send([frame('a'), frame('b')]);
    expect(log).toEqual(['cork', 'send 2', 'uncork']);
  });

  it('patches the websocket transport a long-polling connection upgrades to, and only that', () => {
    const log: string[] = [];
    const polling = { name: 'polling', send: jest.fn() };
    const { connection } = attach(polling);
    expect(Object.keys(polling)).toEqual(['name', 'send']);
    const { transport: upgraded } = websocketTransport(log);
    connection.emit('upgrade', upgraded);
    upgraded.send([frame('a'), frame('b')]);
    expect(log).toEqual(['frame #a#b']);
  });

  it('changes nothing when the internals are not the expected ones', () => {
    const send = jest.fn();
    const transport = { name: 'websocket', socket: { _socket: { cork() {}, uncork() {} } }, send };
    attach(transport);
    expect(transport.send).toBe(send);
  });

  it('completes every busy socket with one timer', () => {
    const log: string[] = [];
    const coalescer = new SocketWriteCoalescer(25);
    const sockets = [websocketTransport(log), websocketTransport(log)];
    for (const { transport } of sockets) attach(transport, coalescer);
    for (const { transport, written } of [...sockets, ...sockets]) {
      transport.send([frame('x')]);
      written();
    }
    expect(log.filter((l) => l === 'completed')).toHaveLength(2);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(25);
    expect(log.filter((l) => l === 'completed')).toHaveLength(4);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('at stop, hands over what it holds and holds nothing more', () => {
    const log: string[] = [];
    const { transport, written } = websocketTransport(log);
    const { coalescer } = attach(transport);
    transport.send([frame('a')]);
    written();
    transport.send([frame('b')]);
    written(); // held
    coalescer.stop();
    expect(log).toEqual(['send 1', 'completed', 'send 1', 'completed']);
    transport.send([frame('c')]);
    written(); // within the interval, but stopped: at once
    expect(log.slice(4)).toEqual(['send 1', 'completed']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('completes every held socket even when one of engine.io\'s handlers throws, then throws', () => {
    const log: string[] = [];
    const coalescer = new SocketWriteCoalescer(25);
    const failing = websocketTransport(log);
    const healthy = websocketTransport(log);
    let fail = false;
    failing.transport._onSentLast = () => {
      if (fail) throw new Error('handler failed');
      log.push('completed');
    };
    for (const { transport } of [failing, healthy]) attach(transport, coalescer);
    for (const { transport, written } of [failing, healthy, failing, healthy]) {
      transport.send([frame('x')]);
      written(); // the first two at once, the next two held
    }
    expect(log.filter((l) => l === 'completed')).toHaveLength(2);
    fail = true;
    expect(() => coalescer.flush()).toThrow('handler failed');
    expect(log.filter((l) => l === 'completed')).toHaveLength(3);
  });
});
