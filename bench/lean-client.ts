import { randomBytes } from 'node:crypto';
import { connect, Socket } from 'node:net';
import { OrderCheck, SyncChatsEvent } from './order-check';

const SYNC_CHATS = Buffer.from('42["sync_chats",');
const SYNC_DONE = Buffer.from('42["sync_chats_done"');
const OPCODE_TEXT = 0x1;
const OPCODE_CLOSE = 0x8;

/**
 * A Socket.IO client reduced to what a benchmark watcher needs, speaking the wire protocol itself
 * over a TCP socket (RFC 6455 websocket, Engine.IO v4, Socket.IO v5): connect, join the session's
 * room, answer pings, count `sync_chats` frames until `sync_chats_done`. It reads frame headers and
 * compares a payload's first bytes, and decodes nothing else unless asked to check the events' order
 * (one client of a run does): its CPU is a small fraction of socket.io-client's. The clients share
 * the benchmark's 2 cores with the server and PostgreSQL, where real browsers would use their own
 * machines; the server cannot tell this client from a browser, it sends it the same frames.
 */
export class LeanClient {
  /** Set when this client checks every event's payload and order; otherwise it only counts. */
  private readonly order: OrderCheck | undefined;
  private events = 0;
  private pending: Buffer = Buffer.alloc(0);
  private upgraded = false;
  private readonly socket: Socket;
  private readonly joined: Promise<void>;
  private readonly done: Promise<{ events: number; error?: string }>;
  private onJoined!: () => void;
  private onFailed!: (error: Error) => void;
  private onDone!: (seen: { events: number; error?: string }) => void;
  private onClosed!: (error: Error) => void;

  private constructor(
    url: string,
    private readonly sessionId: string,
    checkOrder: boolean,
  ) {
    this.order = checkOrder ? new OrderCheck() : undefined;
    const { hostname, port } = new URL(url);
    this.joined = new Promise((resolve, reject) => {
      this.onJoined = resolve;
      this.onFailed = reject;
    });
    this.done = new Promise((resolve, reject) => {
      this.onDone = resolve;
      this.onClosed = reject;
    });
    this.done.catch(() => undefined);
    this.socket = connect(Number(port), hostname, () => {
      const key = randomBytes(16).toString('base64');
      this.socket.write(
        `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.once('error', (error) => this.onFailed(error));
    // A connection that ends before the run's end fails the run instead of leaving it waiting
    // (after `sync_chats_done` has settled `done`, this rejects nothing).
    this.socket.once('close', () => {
      const error = new Error('connection closed before sync_chats_done');
      this.onFailed(error);
      this.onClosed(error);
    });
  }

  static async join(url: string, sessionId: string, checkOrder = false): Promise<LeanClient> {
    const client = new LeanClient(url, sessionId, checkOrder);
    await client.joined;
    return client;
  }

  /** Once `sync_chats_done` has arrived: the events seen, and the first order error if checked. */
  finished(): Promise<{ events: number; error?: string }> {
    return this.done;
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    if (!this.upgraded) {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return void (this.pending = data);
      const status = data.subarray(0, end).toString();
      if (!status.startsWith('HTTP/1.1 101')) return this.onFailed(new Error(`upgrade refused: ${status.split('\r\n')[0]}`));
      this.upgraded = true;
      data = data.subarray(end + 4);
    }
    let offset = 0;
    while (offset + 2 <= data.length) {
      let length = data[offset + 1] & 0x7f;
      let header = 2;
      if (length === 126) {
        if (offset + 4 > data.length) break;
        length = data.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (offset + 10 > data.length) break;
        length = Number(data.readBigUInt64BE(offset + 2));
        header = 10;
      }
      const start = offset + header;
      if (start + length > data.length) break;
      this.frame(data[offset] & 0x0f, data, start, start + length);
      offset = start + length;
    }
    this.pending = offset < data.length ? Buffer.from(data.subarray(offset)) : Buffer.alloc(0);
  }

  /** One unfragmented frame (the server sends no other kind for these small messages). */
  private frame(opcode: number, data: Buffer, start: number, end: number): void {
    if (opcode === OPCODE_CLOSE) {
      this.socket.destroy();
      return;
    }
    if (opcode !== OPCODE_TEXT) return;
    if (startsWith(data, start, end, SYNC_CHATS)) {
      this.events++;
      // '42' then ["sync_chats", payload]
      if (this.order) this.order.accept((JSON.parse(data.toString('utf8', start + 2, end)) as [string, SyncChatsEvent])[1]);
      return;
    }
    if (startsWith(data, start, end, SYNC_DONE)) return this.onDone({ events: this.events, error: this.order?.error });
    const text = data.toString('utf8', start, end);
    if (text === '2') this.send('3'); // Engine.IO ping: pong
    else if (text.startsWith('0')) this.send('40'); // Engine.IO open: connect to the default namespace
    else if (text.startsWith('40')) this.send(`420${JSON.stringify(['join-session', { sessionId: this.sessionId }])}`);
    else if (text.startsWith('430')) (text.includes('"ok":true') ? this.onJoined() : this.onFailed(new Error(`join refused: ${text}`)));
    else if (text.startsWith('44')) this.onFailed(new Error(`connection refused: ${text}`));
  }

  /** A masked text frame, as a client must send (all of ours are under 126 bytes). */
  private send(text: string): void {
    const payload = Buffer.from(text);
    if (payload.length >= 126) throw new Error('lean client: message too long');
    const mask = randomBytes(4);
    for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
    this.socket.write(Buffer.concat([Buffer.from([0x80 | OPCODE_TEXT, 0x80 | payload.length]), mask, payload]));
  }
}

function startsWith(data: Buffer, start: number, end: number, prefix: Buffer): boolean {
  return end - start >= prefix.length && data.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0;
}
