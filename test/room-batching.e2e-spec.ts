import { createServer, Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, Socket as ServerSocket } from 'socket.io';
import { io as connect, Socket as ClientSocket } from 'socket.io-client';
import { RoomBatcher } from '../src/common/room-batcher';
import { waitFor } from './support/wait';

type Transport = 'websocket' | 'polling';

/**
 * The room batcher against the real socket.io, engine.io and ws (the versions in the lock file), with
 * real clients: what they receive is what a browser would, frame by frame.
 */
describe('Room batching with real Socket.IO', () => {
  let http: HttpServer;
  let server: Server;
  let url: string;
  let batcher: RoomBatcher;
  let clients: ClientSocket[] = [];
  /** engine.io packets created for each server-side socket, by socket id. */
  const packets = new Map<string, number>();

  beforeEach(async () => {
    http = createServer();
    server = new Server(http);
    batcher = new RoomBatcher(server);
    server.on('connection', (socket: ServerSocket) => {
      packets.set(socket.id, 0);
      socket.conn.on('packetCreate', () => packets.set(socket.id, (packets.get(socket.id) ?? 0) + 1));
      socket.on('join', async (room: string, ack: (id: string) => void) => {
        await batcher.join(socket, room);
        ack(socket.id);
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    batcher.stop();
    for (const client of clients) client.close();
    clients = [];
    await new Promise((resolve) => server.close(resolve));
  });

  /** A connected client in `room`, and its server-side socket id. */
  async function join(room: string, transport: Transport = 'websocket'): Promise<{ client: ClientSocket; id: string }> {
    const client = connect(url, { transports: [transport], reconnection: false, forceNew: true });
    clients.push(client);
    const id = await new Promise<string>((resolve) => client.emit('join', room, resolve));
    return { client, id };
  }

  function record<T>(client: ClientSocket, event: string): T[] {
    const seen: T[] = [];
    client.on(event, (payload: T) => seen.push(payload));
    return seen;
  }

  const createdFor = (ids: string[]) => ids.map((id) => packets.get(id) ?? 0);

  it('delivers a burst of 1,000 events in order to websocket and long-polling clients, a few packets per websocket', async () => {
    const members = [await join('room'), await join('room'), await join('room'), await join('room', 'polling')];
    const outsider = await join('elsewhere');
    const received = members.map(({ client }) => record<{ n: number; text: string }>(client, 'tick'));
    const leaked = record(outsider.client, 'tick');
    const websockets = members.slice(0, 3).map((m) => m.id);
    const before = createdFor(websockets);
    // Payload sizes across the three WebSocket length encodings (7-bit, 16-bit, 64-bit).
    const textOf = (n: number) => (n === 500 ? 'y'.repeat(70_000) : n % 100 === 0 ? 'x'.repeat(300) : `m${n}`);
    for (let n = 0; n < 1000; n += 2) {
      batcher.emit('room', 'tick', { n, text: textOf(n) });
      batcher.emit('room', 'tick', { n: n + 1, text: textOf(n + 1) });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => received.every((r) => r.length === 1000), 'every member to receive 1,000 events');
    const expected = Array.from({ length: 1000 }, (_, n) => ({ n, text: textOf(n) }));
    for (const r of received) expect(r).toEqual(expected);
    // One engine.io packet per event per socket without batching; one per interval with it.
    createdFor(websockets).forEach((count, i) => expect(count - before[i]).toBeLessThan(100));
    expect(leaked).toEqual([]);
  });

  it('hands an event to a quiet room to engine.io at once, and holds the next one for the interval', async () => {
    const members = [await join('room'), await join('room')];
    const ids = members.map((m) => m.id);
    const received = members.map(({ client }) => record<string>(client, 'hello'));
    const before = createdFor(ids);
    batcher.emit('room', 'hello', 'first');
    expect(createdFor(ids)).toEqual(before.map((n) => n + 1));
    batcher.emit('room', 'hello', 'second');
    expect(createdFor(ids)).toEqual(before.map((n) => n + 1));
    await waitFor(() => received.every((r) => r.length === 2), 'both events at both members');
    for (const r of received) expect(r).toEqual(['first', 'second']);
  });

  it('gives a socket that joins through join() only the events sent after its join', async () => {
    const early = await join('room');
    const earlySeen = record<number>(early.client, 'tick');
    batcher.emit('room', 'tick', 1);
    batcher.emit('room', 'tick', 2); // waits for the interval
    const late = await join('room'); // its join flushes 2 first
    const lateSeen = record<number>(late.client, 'tick');
    batcher.emit('room', 'tick', 3);
    await waitFor(() => earlySeen.length === 3 && lateSeen.length === 1, 'the early socket to see 3 events, the late one 1');
    expect(earlySeen).toEqual([1, 2, 3]);
    expect(lateSeen).toEqual([3]);
  });

  it('at stop(), hands what waits to engine.io, and from then on sends every event at once', async () => {
    const member = await join('room');
    const seen = record<number>(member.client, 'tick');
    batcher.emit('room', 'tick', 1);
    batcher.emit('room', 'tick', 2);
    const before = createdFor([member.id])[0];
    batcher.stop();
    expect(createdFor([member.id])[0]).toBe(before + 1);
    batcher.emit('room', 'tick', 3);
    batcher.emit('room', 'tick', 4);
    expect(createdFor([member.id])[0]).toBe(before + 3);
    await waitFor(() => seen.length === 4, 'all four events');
    expect(seen).toEqual([1, 2, 3, 4]);
  });
});
