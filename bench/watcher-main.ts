import { io, Socket } from 'socket.io-client';
import { LeanClient } from './lean-client';
import { OrderCheck, SyncChatsEvent } from './order-check';
import type { WatcherCommand, WatcherReport } from './watcher-process';

/*
 * The benchmark's Socket.IO clients, in a process of their own (see watcher-process.ts): each joins
 * the session's room for one run until `sync_chats_done`; socket.io-client ones check every
 * `sync_chats` event and its order, lean ones count them.
 */
async function joinedSocket(url: string, sessionId: string): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  await new Promise<void>((resolve, reject) =>
    socket.emit('join-session', { sessionId }, (ack: { ok: boolean; error?: string }) => (ack.ok ? resolve() : reject(new Error(ack.error)))),
  );
  return socket;
}

function watch(socket: Socket): Promise<OrderCheck> {
  const check = new OrderCheck();
  socket.on('sync_chats', (e: SyncChatsEvent) => check.accept(e));
  return new Promise((resolve) => socket.once('sync_chats_done', () => resolve(check)));
}

async function run({ url, sessionId, clients, lean }: WatcherCommand): Promise<void> {
  const sockets = await Promise.all(Array.from({ length: clients - lean }, () => joinedSocket(url, sessionId)));
  const leanClients = await Promise.all(Array.from({ length: lean }, () => LeanClient.join(url, sessionId)));
  const checks = Promise.all(sockets.map(watch));
  const counts = Promise.all(leanClients.map((c) => c.finished()));
  const cpu = process.cpuUsage();
  send({ kind: 'ready' });
  const [done, leanCounts] = await Promise.all([checks, counts]);
  const used = process.cpuUsage(cpu);
  for (const socket of sockets) socket.close();
  for (const client of leanClients) client.close();
  send({
    kind: 'done',
    events: [...done.map((c) => c.events), ...leanCounts],
    errors: done.flatMap((c) => (c.error ? [c.error] : [])),
    cpuSeconds: (used.user + used.system) / 1e6,
  });
}

function send(report: WatcherReport): void {
  process.send?.(report);
}

process.once('message', (command: WatcherCommand) => {
  run(command).catch((error: unknown) => {
    send({ kind: 'failed', error: (error as Error).message });
    process.exitCode = 1;
  });
});
