import { EventEmitter } from 'node:events';
import type { Socket } from 'socket.io';
import { batchSocketWrites } from './socket-write-batching';

function fakeSocket(transport: Record<string, unknown>) {
  const conn = Object.assign(new EventEmitter(), { transport });
  return { socket: { conn } as unknown as Socket, conn };
}

function websocketTransport(log: string[]) {
  const stream = { cork: () => log.push('cork'), uncork: () => log.push('uncork') };
  return { name: 'websocket', socket: { _socket: stream }, send: (packets: unknown[]) => log.push(`send ${packets.length}`) };
}

describe('batchSocketWrites', () => {
  it('corks the TCP socket around a burst, and leaves single packets alone', () => {
    const log: string[] = [];
    const { socket, conn } = fakeSocket(websocketTransport(log));
    batchSocketWrites(socket);
    (conn.transport.send as (p: unknown[]) => void)([1]);
    (conn.transport.send as (p: unknown[]) => void)([1, 2, 3]);
    expect(log).toEqual(['send 1', 'cork', 'send 3', 'uncork']);
  });

  it('patches the websocket transport a polling connection upgrades to', () => {
    const log: string[] = [];
    const { socket, conn } = fakeSocket({ name: 'polling', send: () => log.push('polling send') });
    batchSocketWrites(socket);
    const upgraded = websocketTransport(log);
    conn.emit('upgrade', upgraded);
    upgraded.send([1, 2]);
    expect(log).toEqual(['cork', 'send 2', 'uncork']);
  });

  it('changes nothing when the internals are not the expected ones', () => {
    const send = jest.fn();
    const { socket, conn } = fakeSocket({ name: 'websocket', socket: {}, send });
    batchSocketWrites(socket);
    expect(conn.transport.send).toBe(send);
  });
});
