import { createServer, Server } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import { answerClientErrorsAsJson } from './client-errors';

/** Writes `bytes` on a new connection and collects everything the server sends until it closes. */
function exchange(port: number, bytes: string, after?: { when: string; send: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let sent = false;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (after && !sent && received.includes(after.when)) {
        sent = true;
        socket.write(after.send);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received));
    socket.on('timeout', () => reject(new Error(`no close; received ${JSON.stringify(received)}`)));
    socket.setTimeout(5_000);
    socket.write(bytes);
  });
}

describe('answerClientErrorsAsJson', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/begun') {
        // An answer that has begun before the request body turns out to be broken.
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.write('partial');
        request.on('data', () => undefined);
        return;
      }
      request.resume();
      request.on('end', () => response.end('ok'));
    });
    answerClientErrorsAsJson(server);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('answers a request the parser refuses with a JSON 400', async () => {
    const answer = await exchange(port, 'GET /a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer.split('\r\n\r\n')[1]).toBe(JSON.stringify({ statusCode: 400, error: 'Bad Request', message: 'Malformed HTTP request' }));
  });

  it('still answers with JSON on a connection whose earlier answer has finished', async () => {
    const answer = await exchange(port, 'GET /fine HTTP/1.1\r\nHost: x\r\n\r\n', { when: 'ok', send: 'GET /a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n' });
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toContain('HTTP/1.1 400 Bad Request\r\n');
  });

  it('closes the connection, writing nothing more, when the answer to that request has begun', async () => {
    const answer = await exchange(port, 'POST /begun HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', {
      when: 'partial',
      send: 'zz-not-a-chunk-size\r\n',
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toContain('partial');
    expect(answer).not.toContain('400');
  });
});
