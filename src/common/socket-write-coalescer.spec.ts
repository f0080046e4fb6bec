import { EventEmitter } from 'node:events';
import { SocketWriteCoalescer } from './socket-write-coalescer';

type Packet = { options?: { wsPreEncodedFrame?: Buffer[] } };

/** An engine.io websocket transport as far as the coalescer sees it, logging what reaches the TCP stream. */
function websocketTransport(log: string[], { preEncoded = true } = {}) {
  const stream = { cork: () => log.push('cork'), uncork: () => log.push('uncork') };
  const onSentLast = () => log.push('sent');
  return {
    name: 'websocket',
    writable: true,
    socket: { _socket: stream, _sender: { sendFrame: (list: Buffer[], cb: () => void) => log.push(`frame ${list.map(String).join('|')} ${cb === onSentLast ? 'last' : '?'}`) } },
    _onSentLast: onSentLast,
    _canSendPreEncodedFrame: () => preEncoded,
    send: (packets: Packet[]) => log.push(`send ${packets.length}`),
  };
}

const frame = (text: string): Packet => ({ options: { wsPreEncodedFrame: [Buffer.from('#'), Buffer.from(text)] } });

function attached(transport: object) {
  const connection = Object.assign(new EventEmitter(), { transport });
  const coalescer = new SocketWriteCoalescer(25);
  coalescer.attach(connection);
  return { connection, coalescer, send: (packets: Packet[]) => (transport as { send(p: Packet[]): void }).send(packets) };
}

describe('SocketWriteCoalescer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('writes the first packet after a quiet spell at once and holds the ones that follow until the interval ends', () => {
    const log: string[] = [];
    const { send } = attached(websocketTransport(log));
    send([frame('a')]);
    send([frame('b')]);
    send([frame('c')]);
    expect(log).toEqual(['send 1', 'cork', 'send 1', 'send 1']);
    jest.advanceTimersByTime(25);
    expect(log.slice(4)).toEqual(['uncork']);
    send([frame('d')]);
    expect(log.slice(5)).toEqual(['send 1']);
  });

  it('writes a batch of room frames as one buffer with engine.io\'s last-packet callback', () => {
    const log: string[] = [];
    const transport = websocketTransport(log);
    const { send } = attached(transport);
    send([frame('a'), frame('b'), frame('c')]);
    expect(log).toEqual(['frame #a#b#c last']);
    expect(transport.writable).toBe(false);
  });

  it('leaves a batch to engine.io, corked into one write, when a packet is not a prebuilt frame', () => {
    const log: string[] = [];
    const { send } = attached(websocketTransport(log));
    send([frame('a'), {}]);
    expect(log).toEqual(['cork', 'send 2', 'uncork']);
  });

  it('holds engine.io\'s own sends too when it may not use prebuilt frames (compression)', () => {
    const log: string[] = [];
    const { send } = attached(websocketTransport(log, { preEncoded: false }));
    send([frame('a')]);
    send([frame('b'), frame('c')]);
    expect(log).toEqual(['send 1', 'cork', 'send 2']);
  });

  it('patches the websocket transport a long-polling connection upgrades to, and only that', () => {
    const log: string[] = [];
    const polling = { name: 'polling', send: jest.fn() };
    const { connection } = attached(polling);
    expect(polling.send).not.toHaveBeenCalled();
    expect(Object.keys(polling)).toEqual(['name', 'send']);
    const upgraded = websocketTransport(log);
    connection.emit('upgrade', upgraded);
    upgraded.send([frame('a'), frame('b')]);
    expect(log).toEqual(['frame #a#b last']);
  });

  it('changes nothing when the internals are not the expected ones', () => {
    const send = jest.fn();
    const transport = { name: 'websocket', socket: {}, send };
    attached(transport);
    expect(transport.send).toBe(send);
  });

  it('flushes every held socket with one timer', () => {
    const log: string[] = [];
    const one = websocketTransport(log);
    const two = websocketTransport(log);
    const coalescer = new SocketWriteCoalescer(25);
    coalescer.attach(Object.assign(new EventEmitter(), { transport: one }));
    coalescer.attach(Object.assign(new EventEmitter(), { transport: two }));
    for (const t of [one, two, one, two]) t.send([frame('x')]);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(25);
    expect(log.filter((l) => l === 'uncork')).toHaveLength(2);
    expect(jest.getTimerCount()).toBe(0);
  });
});
