import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorBody } from './all-exceptions.filter';

/**
 * Requests that Node's HTTP parser refuses before the app sees them (raw UTF-8 or a NUL in the
 * request line, headers too large, a broken chunked body) are answered like every other error, a
 * JSON `{statusCode, error, message}`, instead of Node's empty 400.
 */
export function answerClientErrorsAsJson(server: Server): void {
  // The answers still being written on each connection (several when requests are pipelined), kept
  // from the server's 'request' event until the answer has finished or its connection closed.
  const unfinished = new WeakMap<Duplex, Set<ServerResponse>>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    let answers = unfinished.get(socket);
    if (!answers) unfinished.set(socket, (answers = new Set()));
    answers.add(response);
    const forget = () => answers.delete(response);
    response.once('finish', forget);
    response.once('close', forget);
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Node's own rule: nothing can be answered on a reset socket, or once an answer has begun.
    const answering = [...(unfinished.get(socket) ?? [])].some((response) => response.headersSent);
    if (error.code === 'ECONNRESET' || !socket.writable || answering) {
      socket.destroy();
      return;
    }
    const [statusCode, reason, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'The request headers are too large']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'The request took too long to arrive']
          : [400, 'Bad Request', 'Malformed HTTP request'];
    const body: ErrorBody = { statusCode, error: reason, message };
    const text = JSON.stringify(body);
    socket.end(
      `HTTP/1.1 ${statusCode} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  });
}
