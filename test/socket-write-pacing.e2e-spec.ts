import { createServer, Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Server } from 'socket.io';
import { io as connect, Socket as ClientSocket } from 'socket.io-client';
import { SocketWritePacer } from '../src/transport/socket-write-pacer';
import { waitFor } from './support/wait';

const EVENTS = 2000;
const CLIENTS = 5;

/**
 * The write pacer with the real socket.io, engine.io and ws, and real clients: what arrives, and how
 * many batches engine.io hands each websocket (its public 'flush' event), with pacing and without.
 */
describe('Socket write pacing with real Socket.IO', () => {
  let http: HttpServer;
  let server: Server;
  let pacer: SocketWritePacer;
  let clients: ClientSocket[] = [];
  /** engine.io 'flush' events (batches handed to the transport) of the server-side sockets. */
  let flushes = 0;

  async function start(intervalMs: number): Promise<string> {
    pacer = new SocketWritePacer(intervalMs);
    http = createServer();
    server = new Server(http, { wsEngine: pacer.wsEngine() });
    server.on('connection', (socket) => {
      socket.conn.on('flush', () => flushes++);
      socket.on('join', (ack: () => void) => {
        void socket.join('room');
        ack();
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }

  afterEach(async () => {
    for (const client of clients) client.close();
    clients = [];
    pacer.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  async function joinedClients(url: string): Promise<Array<{ client: ClientSocket; seen: number[] }>> {
    return Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const client = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
        clients.push(client);
        const seen: number[] = [];
        client.on('tick', (n: number) => seen.push(n));
        await new Promise<void>((resolve) => client.emit('join', resolve));
        return { client, seen };
      }),
    );
  }

  /** One room event a turn of the event loop, as a sync sends them (not all in one synchronous burst). */
  async function burst(): Promise<void> {
    flushes = 0;
    for (let n = 0; n < EVENTS; n++) {
      server.to('room').emit('tick', n);
      await nextTurn();
    }
  }

  const all = Array.from({ length: EVENTS }, (_, n) => n);
  it('delivers every event of a burst to every websocket, in order, in few batches', async () => {
    const joined = await joinedClients(await start(25));
    await burst();
    pacer.flushAll();
    await waitFor(() => joined.every(({ seen }) => seen.length === EVENTS), 'every event at every client');
    for (const { seen } of joined) expect(seen).toEqual(all);
    // Paced: a batch per socket per 25 ms look, not one per event.
    expect(flushes).toBeLessThan((EVENTS * CLIENTS) / 10);
  }, 30_000);

  it('without pacing (0), the same burst is handed over event by event', async () => {
    const joined = await joinedClients(await start(0));
    await burst();
    await waitFor(() => joined.every(({ seen }) => seen.length === EVENTS), 'every event at every client');
    for (const { seen } of joined) expect(seen).toEqual(all);
    expect(flushes).toBeGreaterThan((EVENTS * CLIENTS) / 2);
  }, 30_000);
});
