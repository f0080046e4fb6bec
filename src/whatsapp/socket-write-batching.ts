import type { Socket } from 'socket.io';

/** The parts of engine.io 6 / ws 8 internals this relies on; checked at run time, never assumed. */
interface CorkableStream {
  cork(): void;
  uncork(): void;
}
interface WebSocketTransport {
  name: string;
  send(packets: unknown[]): void;
  socket?: { _socket?: CorkableStream };
  __batched?: boolean;
}

/**
 * Sends each burst of Socket.IO packets to one socket with one write. While a websocket send is in
 * flight, engine.io queues further packets and later sends them in one synchronous loop, but ws
 * writes every frame with its own syscall. Corking the TCP socket around that loop makes the burst a
 * single `writev`: with 20 clients watching a sync, that is most of the cost of the progress events.
 * Where the internals are not as expected (another engine.io version, polling), nothing changes.
 */
export function batchSocketWrites(socket: Socket): void {
  const conn = socket.conn as unknown as { transport?: WebSocketTransport; on(event: 'upgrade', cb: (t: WebSocketTransport) => void): void };
  patch(conn.transport);
  conn.on('upgrade', patch);
}

function patch(transport: WebSocketTransport | undefined): void {
  if (!transport || transport.__batched || transport.name !== 'websocket' || typeof transport.send !== 'function') return;
  const stream = transport.socket?._socket;
  if (!stream || typeof stream.cork !== 'function' || typeof stream.uncork !== 'function') return;
  const send = transport.send.bind(transport);
  transport.send = (packets: unknown[]) => {
    if (packets.length < 2) return send(packets);
    stream.cork();
    try {
      send(packets);
    } finally {
      stream.uncork();
    }
  };
  transport.__batched = true;
}
