/** The parts of engine.io 6 / ws 8 internals this relies on; checked at run time, never assumed. */
interface CorkableStream {
  cork(): void;
  uncork(): void;
}
interface EnginePacket {
  options?: { wsPreEncodedFrame?: Buffer[] };
}
interface WebSocketTransport {
  name: string;
  writable: boolean;
  send(packets: EnginePacket[]): void;
  socket?: { _socket?: CorkableStream; _sender?: { sendFrame?(list: Buffer[], cb: (error?: Error) => void): void } };
  _canSendPreEncodedFrame?(packet: EnginePacket): boolean;
  _onSentLast?(error?: Error): void;
  __coalesced?: boolean;
}
/** An engine.io connection: its current transport, and the transport it upgrades to. */
export interface EngineConnection {
  transport?: unknown;
  on(event: 'upgrade', listener: (transport: unknown) => void): unknown;
}

/** How long a busy websocket's writes are held to go out together: far below what a progress UI shows. */
export const SOCKET_FLUSH_INTERVAL_MS = 25;

/**
 * Sends bursts of Socket.IO packets to a websocket as one write instead of one syscall per frame.
 *
 * A sync emits two progress events per chat to every socket in the room, a thousand or more a
 * second. Written one by one, each costs every watcher a syscall and a pass through the stream
 * machinery, and with 20 watchers that was most of the events' cost. Here the first write after a
 * quiet spell goes out at once (an ack or a lone event waits for nothing); the writes that follow
 * within the interval are held in the TCP socket (cork) and leave together when it ends. Holding
 * bytes in one stream cannot reorder them: every socket still sees the contract's exact order.
 * Where the internals are not as expected (another engine.io version, long-polling), nothing changes.
 */
export class SocketWriteCoalescer {
  /** Streams that wrote within the current interval; `true` once their writes are being held. */
  private readonly active = new Map<CorkableStream, boolean>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = SOCKET_FLUSH_INTERVAL_MS) {}

  attach(connection: EngineConnection): void {
    this.patch(connection.transport as WebSocketTransport | undefined);
    connection.on('upgrade', (transport) => this.patch(transport as WebSocketTransport));
  }

  /** Sends everything held now (the interval's end). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const held = [...this.active].filter(([, corked]) => corked).map(([stream]) => stream);
    this.active.clear();
    for (const stream of held) stream.uncork();
  }

  private patch(transport: WebSocketTransport | undefined): void {
    if (!transport || transport.__coalesced || transport.name !== 'websocket' || typeof transport.send !== 'function') return;
    const stream = transport.socket?._socket;
    if (!stream || typeof stream.cork !== 'function' || typeof stream.uncork !== 'function') return;
    const send = transport.send.bind(transport);
    transport.send = (packets: EnginePacket[]) => {
      const held = this.hold(stream);
      if (packets.length > 1 && sendAsOneWrite(transport, packets)) return;
      if (held || packets.length < 2) return send(packets);
      // Sent at once, but still as one write: ws would otherwise make a syscall per frame.
      stream.cork();
      try {
        send(packets);
      } finally {
        stream.uncork();
      }
    };
    transport.__coalesced = true;
  }

  /** Whether this write is held for the interval's end; the first one of a quiet stream is not. */
  private hold(stream: CorkableStream): boolean {
    const corked = this.active.get(stream);
    if (corked === undefined) {
      this.active.set(stream, false);
      this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
      return false;
    }
    if (!corked) {
      stream.cork();
      this.active.set(stream, true);
    }
    return true;
  }
}

/**
 * What engine.io's websocket `send` does with frames Socket.IO built once for a whole room (one
 * `sendFrame` per packet, the last one's callback making the transport writable again), done with
 * one buffer and one write for the batch. False, having done nothing, unless every packet is such a
 * frame and engine.io would itself have sent it that way.
 */
function sendAsOneWrite(transport: WebSocketTransport, packets: EnginePacket[]): boolean {
  const sender = transport.socket?._sender;
  const onSentLast = transport._onSentLast;
  if (typeof sender?.sendFrame !== 'function' || typeof onSentLast !== 'function' || typeof transport._canSendPreEncodedFrame !== 'function') return false;
  const parts: Buffer[] = [];
  for (const packet of packets) {
    const frame = packet.options?.wsPreEncodedFrame;
    if (!transport._canSendPreEncodedFrame(packet) || !Array.isArray(frame)) return false;
    parts.push(...frame);
  }
  transport.writable = false;
  sender.sendFrame([Buffer.concat(parts)], onSentLast);
  return true;
}
