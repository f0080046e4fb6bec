import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed JSON, or the text when it is not JSON. */
  body: unknown;
}

/**
 * One HTTP request with the path sent exactly as given (fetch would resolve `..` and encode), on a
 * connection of its own. `body` may be a stream of chunks (no content-length: chunked encoding).
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string | number>; body?: string | Buffer | Array<string | Buffer> } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ method, hostname, port, path, headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parse(text) });
      });
    });
    // The server may answer (413) and close before the whole body is sent: that is an answer, not an error.
    req.on('error', reject);
    if (Array.isArray(init.body)) {
      writeChunks(req, init.body);
    } else {
      req.end(init.body);
    }
  });
}

function writeChunks(req: ReturnType<typeof httpRequest>, chunks: Array<string | Buffer>): void {
  let index = 0;
  const next = (): void => {
    while (index < chunks.length) {
      if (req.destroyed) return;
      if (!req.write(chunks[index++])) {
        req.once('drain', next);
        return;
      }
    }
    req.end();
  };
  req.on('error', () => undefined);
  next();
}

/**
 * Bytes written as they are on a TCP connection (an HTTP client would refuse some of them, such as
 * raw UTF-8 in a request line); resolves with the status, the headers (names in lower case) and the
 * JSON body of the answer.
 */
export function rawBytes(
  baseUrl: string,
  bytes: Buffer,
  options: { halfClose?: boolean } = {},
): Promise<{ status: number; headers: Record<string, string>; text: string; body: unknown }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    // `halfClose: false` leaves the sending side open until the server closes the connection: Node
    // abandons a request whose client ended its side before the (asynchronous) answer was written.
    const socket = connect(Number(port), hostname, () => (options.halfClose === false ? socket.write(bytes) : socket.end(bytes)));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const answer = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = answer.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const isChunked = /transfer-encoding: chunked/i.test(head);
      const text = isChunked ? dechunk(rest.join('\r\n\r\n')) : rest.join('\r\n\r\n');
      const headers = Object.fromEntries(
        head
          .split('\r\n')
          .slice(1)
          .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      resolve({ status, headers, text, body: parse(text) });
    });
  });
}

function dechunk(payload: string): string {
  let out = '';
  let rest = payload;
  for (;;) {
    const end = rest.indexOf('\r\n');
    if (end < 0) return out;
    const size = parseInt(rest.slice(0, end), 16);
    if (!size) return out;
    out += rest.slice(end + 2, end + 2 + size);
    rest = rest.slice(end + 2 + size + 2);
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
