import { io, Socket } from 'socket.io-client';
import { LeanClient } from './lean-client';
import { OrderCheck, SyncChatsEvent } from './order-check';
import type { WatcherCommand, WatcherReport } from './watcher-process';

/*
 * The benchmark's Socket.IO clients, in a process of their own (see watcher-process.ts): for each
 * command, new clients join the session's room for one run until `sync_chats_done`. socket.io-clients each check every
 * `sync_chats` event and its order; of lean clients, the first checks them and the others count them.
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
  const cpu = process.cpuUsage();
  let checks: Promise<Array<{ events: number; error?: string }>>;
  let closeAll: () => void;
  if (lean) {
    // The first one checks the order and payloads, the others count.
    const leanClients = await Promise.all(Array.from({ length: clients }, (_, i) => LeanClient.join(url, sessionId, i === 0)));
    checks = Promise.all(leanClients.map((c) => c.finished()));
    closeAll = () => leanClients.forEach((c) => c.close());
  } else {
    const sockets = await Promise.all(Array.from({ length: clients }, () => joinedSocket(url, sessionId)));
    checks = Promise.all(sockets.map(watch));
    closeAll = () => sockets.forEach((s) => s.close());
  }
  const joined = process.cpuUsage(cpu);
  send({ kind: 'ready' });
  const done = await checks;
  const used = process.cpuUsage(cpu);
  closeAll();
  send({
    kind: 'done',
    events: done.map((c) => c.events),
    errors: done.flatMap((c) => (c.error ? [c.error] : [])),
    cpuSeconds: (used.user + used.system - joined.user - joined.system) / 1e6,
  });
}

function send(report: WatcherReport): void {
  process.send?.(report);
}

// Commands come one at a time: the next is sent after this one's 'done'.
process.on('message', (command: WatcherCommand) => {
  run(command).catch((error: unknown) => send({ kind: 'failed', error: (error as Error).message }));
});
