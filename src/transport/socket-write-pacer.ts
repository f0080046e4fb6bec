import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ServerOptions, WebSocketServer } from 'ws';

/** What Socket.IO's `wsEngine` option takes: a ws-compatible server class. */
export type WsEngine = new (options?: ServerOptions) => WebSocketServer;

/**
 * Paces the writes of busy websockets, through public APIs only: Node's `socket.cork()` /
 * `uncork()` and `bytesWritten`, on the TCP sockets that ws's public `handleUpgrade` receives.
 *
 * A sync sends its room hundreds of events a second; Socket.IO encodes each once, but every socket
 * then writes each event on its own, one system call per event per socket, most of what 20 watchers
 * cost the server. Every `intervalMs`, a socket that was written to since the last look is corked
 * until the next look, so that what it is sent meanwhile leaves in one write; a socket that was
 * quiet is uncorked, so that a lone event or an acknowledgement leaves at once. Order is the
 * socket's own: corking delays bytes, it never reorders them. `flushAll()` writes what every socket
 * holds now: a run's last event must not wait behind its HTTP answer.
 */
export class SocketWritePacer {
  private readonly sockets = new Map<Socket, { written: number; corked: boolean }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly intervalMs: number) {}

  /** The ws server class for Socket.IO's `wsEngine` option: every upgraded socket is paced. */
  wsEngine(): WsEngine {
    const pacer = this;
    return class PacedWebSocketServer extends WebSocketServer {
      override handleUpgrade(...args: Parameters<WebSocketServer['handleUpgrade']>): void {
        pacer.attach(args[1]);
        super.handleUpgrade(...args);
      }
    };
  }

  attach(socket: Duplex): void {
    if (this.intervalMs === 0 || this.stopped || !isTcpSocket(socket)) return;
    this.sockets.set(socket, { written: socket.bytesWritten, corked: false });
    socket.once('close', () => this.sockets.delete(socket));
    this.timer ??= setInterval(() => this.tick(), this.intervalMs).unref();
  }

  /** Writes what every corked socket holds, now; pacing goes on at the next look. */
  flushAll(): void {
    for (const [socket, state] of this.sockets) {
      if (!state.corked) continue;
      state.corked = false;
      socket.uncork();
      state.written = socket.bytesWritten;
    }
  }

  /** At shutdown, before the connections close: what sockets hold is written, and nothing is held from then on. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.flushAll();
    this.sockets.clear();
  }

  private tick(): void {
    for (const [socket, state] of this.sockets) {
      const written = socket.bytesWritten;
      const busy = written !== state.written;
      if (state.corked) socket.uncork();
      // Busy: hold what comes next until the next look. Quiet: leave it uncorked.
      if (busy) socket.cork();
      state.corked = busy;
      state.written = socket.bytesWritten;
    }
  }
}

function isTcpSocket(socket: Duplex): socket is Socket {
  return typeof (socket as Partial<Socket>).cork === 'function' && typeof (socket as Partial<Socket>).bytesWritten === 'number';
}

