import { callAll } from './call-all';

/** The parts of engine.io 6 / ws 8 internals this relies on; checked at run time, never assumed. */
interface CorkableStream {
  cork(): void;
  uncork(): void;
}
interface EnginePacket {
  options?: { wsPreEncodedFrame?: Buffer[] };
}
type SentCallback = (error?: Error) => void;
interface WebSocketTransport {
  name: string;
  writable: boolean;
  send(packets: EnginePacket[]): void;
  socket?: { _socket?: CorkableStream; _sender?: { sendFrame?(list: Buffer[], cb: SentCallback): void } };
  _canSendPreEncodedFrame?(packet: EnginePacket): boolean;
  _onSentLast?: SentCallback;
  __coalesced?: boolean;
}
/** An engine.io connection: its current transport, and the transport it upgrades to. */
export interface EngineConnection {
  transport?: unknown;
  on(event: 'upgrade', listener: (transport: unknown) => void): unknown;
}

/** The least time between two writes to a busy websocket: far below what a progress UI shows. */
export const SOCKET_FLUSH_INTERVAL_MS = 25;

/**
 * Paces each websocket to at most one write per interval while it is busy, and writes each batch as
 * one buffer.
 *
 * A sync emits two progress events per chat to every socket in the room, a thousand or more a
 * second. Written one by one, each event costs every watcher a syscall and wakes its reader; with 20
 * watchers that was most of the events' cost. engine.io already queues packets while a write is in
 * flight and sends the queue in one go when the write completes. Here, that completion is handed to
 * engine.io at the end of the interval when the socket's previous write completed less than one
 * interval ago: during a burst, each socket gets one write per interval carrying everything queued
 * meanwhile. A write to a socket that was quiet (an ack, a lone event) completes at once, so nothing
 * waits when nothing is busy. Packets leave in the order engine.io queued them: every socket still
 * sees the contract's exact order. Where the internals are not as expected (another engine.io
 * version, long-polling), nothing changes.
 *
 * Packets queued behind a held completion live in engine.io's buffer, which closing a socket
 * discards: `stop()` must run before the sockets are closed (the adapter's `close` does it), so that
 * the last events of a shutdown (`sync_chats_failed`) still leave. Socket.IO drops a volatile packet
 * while the transport is not writable, so to a busy socket most volatile packets would be dropped;
 * this service sends none.
 */
export class SocketWriteCoalescer {
  private deferred: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly intervalMs = SOCKET_FLUSH_INTERVAL_MS) {}

  attach(connection: EngineConnection): void {
    this.patch(connection.transport as WebSocketTransport | undefined);
    connection.on('upgrade', (transport) => this.patch(transport as WebSocketTransport));
  }

  /** Hands every deferred completion to engine.io now (the interval's end). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const due = this.deferred;
    this.deferred = [];
    // One socket's failing handler must not leave the others unwritable.
    callAll(due, (complete) => complete());
  }

  /** At shutdown: sends everything held now, and holds nothing from here on. */
  stop(): void {
    this.stopped = true;
    this.flush();
  }

  private patch(transport: WebSocketTransport | undefined): void {
    if (!transport || transport.__coalesced || transport.name !== 'websocket' || typeof transport.send !== 'function') return;
    const stream = transport.socket?._socket;
    const onSentLast = transport._onSentLast;
    if (!stream || typeof stream.cork !== 'function' || typeof stream.uncork !== 'function' || typeof onSentLast !== 'function') return;

    let lastCompletedAt = -Infinity;
    const complete = () => {
      lastCompletedAt = performance.now();
      onSentLast();
    };
    // engine.io reads `_onSentLast` at each send: every write's completion passes through here.
    transport._onSentLast = (error?: Error) => {
      if (error) return onSentLast(error);
      if (this.stopped || performance.now() - lastCompletedAt >= this.intervalMs) return complete();
      this.defer(complete);
    };

    const send = transport.send.bind(transport);
    transport.send = (packets: EnginePacket[]) => {
      if (packets.length < 2) return send(packets);
      if (sendAsOneWrite(transport, packets)) return;
      // Frames engine.io must build itself (compression on): still one syscall for the batch.
      stream.cork();
      try {
        send(packets);
      } finally {
        stream.uncork();
      }
    };
    transport.__coalesced = true;
  }

  private defer(complete: () => void): void {
    this.deferred.push(complete);
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }
}

/**
 * What engine.io's websocket `send` does with frames Socket.IO built once for a whole room (one
 * `sendFrame` per packet, the last one's callback making the transport writable again), done with
 * one buffer and one write for the batch. False, having done nothing, unless every packet is such a
 * frame and engine.io would itself have sent it that way. Plain loops: this runs for every socket
 * of a room at every interval of a sync.
 */
function sendAsOneWrite(transport: WebSocketTransport, packets: EnginePacket[]): boolean {
  const sender = transport.socket?._sender;
  const onSentLast = transport._onSentLast;
  if (typeof sender?.sendFrame !== 'function' || typeof onSentLast !== 'function' || typeof transport._canSendPreEncodedFrame !== 'function') return false;
  // engine.io's test is about the transport (no compression, a ws sender) and whether the packet
  // has a frame: asked for the first packet, the rest only need their frame.
  if (!transport._canSendPreEncodedFrame(packets[0])) return false;
  let length = 0;
  for (let i = 0; i < packets.length; i++) {
    const frame = packets[i].options?.wsPreEncodedFrame;
    if (!Array.isArray(frame)) return false;
    for (let j = 0; j < frame.length; j++) length += frame[j].length;
  }
  const batch = Buffer.allocUnsafe(length);
  let offset = 0;
  for (let i = 0; i < packets.length; i++) {
    const frame = packets[i].options!.wsPreEncodedFrame!;
    for (let j = 0; j < frame.length; j++) {
      batch.set(frame[j], offset);
      offset += frame[j].length;
    }
  }
  transport.writable = false;
  sender.sendFrame([batch], onSentLast);
  return true;
}
