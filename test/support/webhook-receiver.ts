import { createHmac, timingSafeEqual } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { Socket } from 'node:net';
import { waitFor } from './wait';

/** One POST as the receiver got it, and what it answered. */
export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  rawBody: string;
  body: { id: string; event: string; sessionId: string; createdAt: string; payload: Record<string, unknown> };
  /** The status it answered, `null` when it answered nothing (hung up, or cut the answer). */
  answered: number | null;
  at: number;
}

/**
 * How the receiver answers a request: a status (`200`, `500`, `302`...), `hang` (never answers),
 * `cut` (starts a 200 and closes the connection before the body ends), or a status after a delay.
 */
export type Answer = number | 'hang' | 'cut' | { status: number; afterMs: number };

/**
 * A real HTTP receiver in the test process: what a CRM's webhook endpoint is. Answers each request
 * by `answer` (a function of the request, so that a test can script failures), records everything.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  answer: (request: Received) => Answer = () => 200;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(): Promise<WebhookReceiver> {
    let receiver!: WebhookReceiver;
    const server = createServer((request, response) => receiver.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new WebhookReceiver(server, (server.address() as { port: number }).port);
    server.on('connection', (socket) => {
      receiver.sockets.add(socket);
      socket.once('close', () => receiver.sockets.delete(socket));
    });
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Requests to `path`, in arrival order. */
  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Requests to `path` answered 2xx: what the service may count as delivered. */
  acknowledged(path: string): Received[] {
    return this.at(path).filter((r) => r.answered !== null && r.answered >= 200 && r.answered < 300);
  }

  async waitForAcknowledged(path: string, count: number, timeoutMs = 15_000): Promise<Received[]> {
    await waitFor(() => this.acknowledged(path).length >= count, `${count} deliveries acknowledged at ${path}`, timeoutMs);
    return this.acknowledged(path);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const received: Received = { path: request.url ?? '', headers: request.headers, rawBody, body: JSON.parse(rawBody) as Received['body'], answered: null, at: Date.now() };
      this.received.push(received);
      const answer = this.answer(received);
      if (answer === 'hang') return;
      if (answer === 'cut') {
        response.writeHead(200, { 'content-length': '100' });
        // Once the head and a part of the body are on their way, the connection ends.
        response.write('partial', () => response.socket?.destroy());
        return;
      }
      const { status, afterMs } = typeof answer === 'number' ? { status: answer, afterMs: 0 } : answer;
      const send = () => {
        received.answered = status;
        response.writeHead(status, status >= 300 && status < 400 ? { location: this.url('/redirected') } : {});
        response.end('ok');
      };
      if (afterMs > 0) setTimeout(send, afterMs);
      else send();
    });
  }
}

/** The receiver's side of the signature: what README shows, with a tolerance against replay. */
export function signatureValid(received: Received, secret: string, toleranceSeconds = 300): boolean {
  const timestamp = String(received.headers['x-webhook-timestamp']);
  const signature = String(received.headers['x-webhook-signature']);
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${received.rawBody}`).digest('hex')}`;
  return signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}
