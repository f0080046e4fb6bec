import { createServer, Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, Socket as ClientSocket } from 'socket.io-client';
import { EngineConnection, SocketWriteCoalescer } from '../src/common/socket-write-coalescer';
import { waitFor } from './support/wait';

/**
 * The coalescer against the real socket.io, engine.io and ws it patches (the versions in the lock
 * file): if their internals change, these fail instead of the fast path silently turning off.
 */
describe('Socket write coalescing with real Socket.IO', () => {
  let http: HttpServer;
  let server: Server;
  let clients: ClientSocket[] = [];
  let coalescer: SocketWriteCoalescer;
  /** syscall-level writes (`_write` / `_writev`) on each server-side TCP socket. */
  const writes = new Map<string, number>();
  const tcpSockets: NetSocket[] = [];

  beforeEach(async () => {
    http = createServer();
    server = new Server(http);
    coalescer = new SocketWriteCoalescer();
    server.engine.on('connection', (connection: EngineConnection & { id: string; transport: { socket: { _socket: NetSocket } } }) => {
      coalescer.attach(connection);
      const tcp = connection.transport.socket._socket as NetSocket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
      writes.set(connection.id, 0);
      tcpSockets.push(tcp);
      for (const method of ['_write', '_writev'] as const) {
        const original = tcp[method].bind(tcp);
        tcp[method] = (...args: unknown[]) => {
          writes.set(connection.id, (writes.get(connection.id) ?? 0) + 1);
          original(...args);
        };
      }
    });
    server.on('connection', (socket) =>
      socket.on('join', async (ack: () => void) => {
        await socket.join('room');
        ack();
      }),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    clients = await Promise.all(
      [1, 2, 3].map(async () => {
        const client = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
        await new Promise<void>((resolve) => client.emit('join', resolve));
        return client;
      }),
    );
  });

  afterEach(async () => {
    for (const client of clients) client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('delivers a burst of 1,000 room events to every client in order with a few writes per socket', async () => {
    const received = clients.map(() => [] as number[]);
    clients.forEach((client, i) => client.on('tick', (n: number) => received[i].push(n)));
    const before = new Map(writes);
    // Two events per loop turn, as a sync emits them (start and end of a chat).
    for (let n = 0; n < 1000; n += 2) {
      server.to('room').emit('tick', n);
      server.to('room').emit('tick', n + 1);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => received.every((r) => r.length === 1000), 'every client to receive 1,000 events');
    const expected = Array.from({ length: 1000 }, (_, n) => n);
    for (const r of received) expect(r).toEqual(expected);
    for (const [id, count] of writes) {
      // One write per packet without the coalescer; a handful per 25 ms interval with it.
      expect(count - (before.get(id) ?? 0)).toBeLessThan(100);
    }
  });

  it('writes a lone event at once, without waiting for the interval', async () => {
    const got = new Promise<string>((resolve) => clients[0].once('hello', resolve));
    coalescer.flush(); // the joins' interval ends: the sockets are quiet
    const before = [...writes.values()].reduce((a, b) => a + b, 0);
    server.to('room').emit('hello', 'now');
    // Synchronously written to all three sockets, before any timer could have run.
    expect([...writes.values()].reduce((a, b) => a + b, 0) - before).toBe(3);
    expect(await got).toBe('now');
  });

  it('at shutdown, still sends what busy sockets hold before their connections are destroyed', async () => {
    const received = clients.map(() => [] as string[]);
    clients.forEach((client, i) => {
      client.on('tick', (n: number) => received[i].push(String(n)));
      client.on('final', () => received[i].push('final'));
    });
    const closed = Promise.all(clients.map((client) => new Promise((resolve) => client.once('disconnect', resolve))));
    for (let n = 0; n < 200; n += 2) {
      server.to('room').emit('tick', n);
      server.to('room').emit('tick', n + 1);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Busy sockets: this waits in engine.io's buffer behind a held completion.
    server.to('room').emit('final');
    // What the adapter's close does, then what Nest's forceCloseConnections does.
    coalescer.stop();
    await new Promise((resolve) => setImmediate(resolve));
    for (const tcp of tcpSockets) tcp.destroy();
    await closed;
    const expected = [...Array.from({ length: 200 }, (_, n) => String(n)), 'final'];
    for (const r of received) expect(r).toEqual(expected);
  });
});
