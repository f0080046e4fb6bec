import type { Namespace, Server, Socket } from 'socket.io';
import { callAll } from './call-all';
import { SOCKET_FLUSH_INTERVAL_MS } from './socket-write-coalescer';

/** The engine.io connection API this uses (public, but for the `wsPreEncodedFrame` option). */
interface WritableConnection {
  readyState: string;
  transport: { name: string; _canSendPreEncodedFrame?(packet: { options: { wsPreEncodedFrame: Buffer[] } }): boolean };
  write(data: string, options?: { wsPreEncodedFrame?: Buffer[] }): unknown;
}

interface RoomState {
  /** Socket.IO packets (encoded, without engine.io's `4` message prefix) waiting for the interval's end. */
  pending: string[];
  lastSentAt: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Sends a busy room's events to its sockets once per interval, each socket receiving the whole batch
 * as one packet of engine.io's.
 *
 * Socket.IO's room broadcast encodes an event once, but then hands it to every socket's engine.io
 * connection one by one: a packet object, listeners and a flush check per event per socket. A sync
 * emits two progress events per chat, a thousand and more a second, so with 20 watchers that
 * per-socket work was most of what the events cost the server. Here, an event to a room that was
 * quiet for an interval goes out at once through Socket.IO; an event to a busy room waits, encoded
 * once, for the interval's end, when the batch becomes one buffer of consecutive WebSocket frames
 * that every websocket connection of the room gets as a single pre-encoded packet (the mechanism
 * Socket.IO itself uses for broadcasts). Clients receive the same frames, one event each, in the same
 * order; a connection that cannot take pre-encoded frames (long-polling, compression) gets the batch
 * packet by packet.
 *
 * Everything a room gets must go through `emit`, so that order holds, and sockets join and leave
 * through `join` and `leave`, so that a joining one gets nothing sent before it joined and a leaving
 * one keeps everything sent while it was in. Only with the in-process
 * adapter (the service's own); with any other, and for events that are not one text packet, every
 * event goes through Socket.IO at once. `stop()` hands everything waiting to engine.io (at shutdown,
 * before the sockets close) and from then on sends every event at once.
 */
export class RoomBatcher {
  private readonly rooms = new Map<string, RoomState>();
  private stopped = false;

  constructor(private readonly server: Server) {}

  emit(room: string, event: string, payload: unknown): void {
    const now = performance.now();
    const state = this.rooms.get(room);
    const busy = state !== undefined && (state.pending.length > 0 || now - state.lastSentAt < SOCKET_FLUSH_INTERVAL_MS);
    const packet = busy && this.batchable() ? this.encode(event, payload) : undefined;
    if (state && packet !== undefined) {
      state.pending.push(packet);
      state.timer ??= this.arm(room);
      return;
    }
    // What waits goes first, so that nothing overtakes it.
    this.flush(room);
    this.server.to(room).emit(event as never, payload as never);
    if (!this.stopped) this.mark(room, now);
  }

  /** Sends what `room` has waiting now. */
  flush(room: string): void {
    const state = this.rooms.get(room);
    if (!state || state.pending.length === 0) return;
    const packets = state.pending;
    state.pending = [];
    state.lastSentAt = performance.now();
    this.send(room, packets);
  }

  /** A socket joins `room` after what the room holds has left: it gets only what follows its join. */
  join(socket: Socket, room: string): void | Promise<void> {
    this.flush(room);
    return socket.join(room);
  }

  /** A socket leaves `room` after what the room holds has left: it keeps what was sent while it was in. */
  leave(socket: Socket, room: string): void | Promise<void> {
    this.flush(room);
    return socket.leave(room);
  }

  /** At shutdown: sends everything waiting now, and holds nothing from here on (the map stays empty). */
  stop(): void {
    this.stopped = true;
    try {
      callAll(this.rooms, ([room, state]) => {
        clearTimeout(state.timer);
        this.flush(room);
      });
    } finally {
      this.rooms.clear();
    }
  }

  /** The room was just sent to: events in the next interval wait, then the timer sends them. */
  private mark(room: string, now: number): void {
    const state = this.rooms.get(room) ?? { pending: [], lastSentAt: now, timer: undefined };
    state.lastSentAt = now;
    this.rooms.set(room, state);
    state.timer ??= this.arm(room);
  }

  private arm(room: string): NodeJS.Timeout {
    // Unreferenced: a batch has recipients only while their open sockets keep the process alive anyway.
    return setTimeout(() => this.tick(room), SOCKET_FLUSH_INTERVAL_MS).unref();
  }

  /** The interval's end: sends the batch and waits another interval, or forgets a room gone quiet. */
  private tick(room: string): void {
    const state = this.rooms.get(room);
    if (!state) return;
    state.timer = undefined;
    if (state.pending.length === 0) {
      this.rooms.delete(room);
      return;
    }
    // Re-armed first: a send that throws must not leave the room's later events waiting for ever.
    state.timer = this.arm(room);
    this.flush(room);
  }

  /**
   * Only with Socket.IO's in-process adapter, whose rooms hold every member: a cluster adapter
   * broadcasts to other nodes too, and the session-aware one (connection state recovery) records
   * each packet, so with those every event goes through Socket.IO.
   */
  private batchable(): boolean {
    return this.server.of('/').adapter.constructor.name === 'Adapter';
  }

  /** Socket.IO's own encoding of the event; undefined where it is not one text packet (binary data). */
  private encode(event: string, payload: unknown): string | undefined {
    const encoded: unknown[] = this.server.encoder.encode({ type: 2, nsp: '/', data: [event, payload] });
    return encoded.length === 1 && typeof encoded[0] === 'string' ? encoded[0] : undefined;
  }

  private send(room: string, packets: string[]): void {
    const nsp: Namespace = this.server.of('/');
    const members = nsp.adapter.rooms.get(room);
    if (!members) return;
    let frames: Buffer[] | undefined;
    for (const id of members) {
      const conn = nsp.sockets.get(id)?.conn as WritableConnection | undefined;
      if (!conn || conn.readyState !== 'open') continue; // as Socket.IO does: a closing connection gets nothing
      const transport = conn.transport;
      if (transport.name === 'websocket' && typeof transport._canSendPreEncodedFrame === 'function') {
        frames ??= [webSocketTextFrames(packets)];
        // engine.io's websocket transport writes a packet's pre-encoded frames instead of encoding its
        // data, so `packets[0]` only stands in for the batch (engine.io 6: websocket.js `send`).
        if (transport._canSendPreEncodedFrame({ options: { wsPreEncodedFrame: frames } })) {
          conn.write(packets[0], { wsPreEncodedFrame: frames });
          continue;
        }
      }
      for (const packet of packets) conn.write(packet);
    }
  }
}

/**
 * One buffer holding, for each packet, the WebSocket text frame (RFC 6455: final, unmasked from a
 * server) of its engine.io message (`4` + the Socket.IO packet).
 */
export function webSocketTextFrames(packets: readonly string[]): Buffer {
  let total = 0;
  const lengths = packets.map((packet) => {
    const length = 1 + Buffer.byteLength(packet);
    total += headerLength(length) + length;
    return length;
  });
  const buffer = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < packets.length; i++) {
    const length = lengths[i];
    buffer[offset++] = 0x81; // FIN + text frame
    if (length < 126) {
      buffer[offset++] = length;
    } else if (length < 65536) {
      buffer[offset++] = 126;
      buffer.writeUInt16BE(length, offset);
      offset += 2;
    } else {
      buffer[offset++] = 127;
      buffer.writeBigUInt64BE(BigInt(length), offset);
      offset += 8;
    }
    buffer[offset++] = 0x34; // '4': engine.io's message packet
    offset += buffer.write(packets[i], offset);
  }
  return buffer;
}

function headerLength(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10;
}

const batchers = new WeakMap<Server, RoomBatcher>();

/** The batcher of `server`, made at its first use: the gateway emits through it, the adapter stops it. */
export function roomBatcherOf(server: Server): RoomBatcher {
  let batcher = batchers.get(server);
  if (!batcher) {
    batcher = new RoomBatcher(server);
    batchers.set(server, batcher);
  }
  return batcher;
}
