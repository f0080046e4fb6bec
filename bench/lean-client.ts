import WebSocket from 'ws';

/**
 * A Socket.IO client reduced to what a benchmark watcher needs, speaking the wire protocol over a
 * plain websocket (Engine.IO v4, Socket.IO v5): connect, join the session's room, answer pings,
 * count `sync_chats` events until `sync_chats_done`. It decodes no payload: its CPU stays a small
 * fraction of socket.io-client's, so that on a 2-core machine the clients' own work, which real
 * browsers do on their own machines, takes little from the server measured. The server cannot tell
 * it from a browser: it sends it exactly the same frames.
 */
export class LeanClient {
  events = 0;
  private readonly ws: WebSocket;
  private readonly done: Promise<number>;
  private joined!: () => void;
  private failed!: (error: Error) => void;

  private constructor(url: string, sessionId: string) {
    this.ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const joined = new Promise<void>((resolve, reject) => {
      this.joined = resolve;
      this.failed = reject;
    });
    this.done = new Promise<number>((resolve) => {
      this.ws.on('message', (data: Buffer) => {
        const text = data.toString();
        if (text.startsWith('42["sync_chats",')) this.events++;
        else if (text.startsWith('42["sync_chats_done"')) resolve(this.events);
        else if (text === '2') this.ws.send('3'); // ping, pong
        else if (text.startsWith('40')) this.ws.send(`420${JSON.stringify(['join-session', { sessionId }])}`);
        else if (text.startsWith('430')) (text.includes('"ok":true') ? this.joined() : this.failed(new Error(`join refused: ${text}`)));
      });
    });
    this.ws.once('open', () => this.ws.send('40'));
    this.ws.once('error', (error) => this.failed(error));
    this.ready = joined;
  }

  readonly ready: Promise<void>;

  static async join(url: string, sessionId: string): Promise<LeanClient> {
    const client = new LeanClient(url, sessionId);
    await client.ready;
    return client;
  }

  /** The number of `sync_chats` events seen, once `sync_chats_done` has arrived. */
  finished(): Promise<number> {
    return this.done;
  }

  close(): void {
    this.ws.close();
  }
}
