import { Server as TcpServer, Socket as TcpSocket, connect, createServer } from 'node:net';

/**
 * A TCP relay to a server of the machine (Redis, PostgreSQL) that a test can cut and restore: that
 * server gone, as seen from the processes that reach it through the relay. It listens on the same
 * port again once restored.
 */
export class TcpRelay {
  private server: TcpServer | undefined;
  private readonly sockets = new Set<TcpSocket>();
  port = 0;

  constructor(
    private readonly target: { host: string; port: number },
  ) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Refuses new connections and cuts the open ones. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
