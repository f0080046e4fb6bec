import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { SocketWritePacer } from './socket-write-pacer';

/** The parts of a TCP socket the pacer uses: cork/uncork (counted) and bytesWritten. */
class FakeSocket extends EventEmitter {
  bytesWritten = 0;
  corks = 0;
  cork(): void {
    this.corks++;
  }
  uncork(): void {
    this.corks--;
  }
  write(bytes: number): void {
    this.bytesWritten += bytes;
  }
}

describe('SocketWritePacer', () => {
  const INTERVAL = 25;
  let pacer: SocketWritePacer;
  beforeEach(() => {
    jest.useFakeTimers();
    pacer = new SocketWritePacer(INTERVAL);
  });
  afterEach(() => {
    pacer.stop();
    jest.useRealTimers();
  });
  const attach = (socket: FakeSocket) => pacer.attach(socket as unknown as Duplex);

  it('never holds a quiet socket: a lone write leaves at once, and the next look finds nothing held', () => {
    const socket = new FakeSocket();
    attach(socket);
    jest.advanceTimersByTime(INTERVAL);
    expect(socket.corks).toBe(0);
    socket.write(10);
    expect(socket.corks).toBe(0);
  });

  it('holds a socket written to since the last look until the next one, then lets it go once quiet', () => {
    const socket = new FakeSocket();
    attach(socket);
    socket.write(10);
    jest.advanceTimersByTime(INTERVAL);
    expect(socket.corks).toBe(1); // busy: what comes next waits for the next look
    socket.write(10);
    socket.write(10);
    jest.advanceTimersByTime(INTERVAL);
    expect(socket.corks).toBe(1); // uncorked (written as one) and corked again: still busy
    jest.advanceTimersByTime(INTERVAL);
    expect(socket.corks).toBe(0); // nothing written meanwhile: quiet
    jest.advanceTimersByTime(INTERVAL * 4);
    expect(socket.corks).toBe(0);
  });

  it('flushAll() writes what every held socket holds, at once', () => {
    const [a, b, quiet] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    [a, b, quiet].forEach(attach);
    a.write(1);
    b.write(1);
    jest.advanceTimersByTime(INTERVAL);
    expect([a.corks, b.corks, quiet.corks]).toEqual([1, 1, 0]);
    pacer.flushAll();
    expect([a.corks, b.corks, quiet.corks]).toEqual([0, 0, 0]);
  });

  it('stop() lets every socket go and paces nothing attached later', () => {
    const socket = new FakeSocket();
    attach(socket);
    socket.write(1);
    jest.advanceTimersByTime(INTERVAL);
    pacer.stop();
    expect(socket.corks).toBe(0);
    const late = new FakeSocket();
    attach(late);
    late.write(1);
    jest.advanceTimersByTime(INTERVAL * 2);
    expect(late.corks).toBe(0);
  });

  it('forgets a closed socket, and paces nothing with an interval of 0', () => {
    const socket = new FakeSocket();
    attach(socket);
    socket.emit('close');
    socket.write(1);
    jest.advanceTimersByTime(INTERVAL);
    expect(socket.corks).toBe(0);

    const off = new SocketWritePacer(0);
    const other = new FakeSocket();
    off.attach(other as unknown as Duplex);
    other.write(1);
    jest.advanceTimersByTime(INTERVAL);
    expect(other.corks).toBe(0);
  });
});
