import { setTimeout as delay } from 'node:timers/promises';
import { io, Socket } from 'socket.io-client';

export interface SyncMeasurement {
  elapsedMs: number;
  messagesSynced: number;
  chatsProcessed: number;
  events: number;
}

/**
 * Checks the contract's `sync_chats` order as events arrive, keeping counters only (a million-message
 * run must not make the benchmark itself the memory hog).
 */
class OrderCheck {
  events = 0;
  private expectedChat = 0;
  private secondOfChat = false;
  nChats = -1;
  error: string | undefined;

  accept(e: { currentChat: number; nChats: number; messagesSynced?: number; chatId?: string }): void {
    this.events++;
    if (this.error) return;
    if (this.events === 1) {
      if (e.currentChat !== 0) this.error = `first event has currentChat ${e.currentChat}`;
      this.nChats = e.nChats;
      this.expectedChat = 1;
      return;
    }
    if (e.currentChat !== this.expectedChat || e.nChats !== this.nChats) {
      this.error = `event ${this.events}: currentChat ${e.currentChat}, expected ${this.expectedChat}`;
      return;
    }
    if (!this.secondOfChat && e.messagesSynced !== 0) this.error = `event ${this.events}: first event of chat ${e.currentChat} has messagesSynced ${e.messagesSynced}`;
    if (this.secondOfChat) this.expectedChat++;
    this.secondOfChat = !this.secondOfChat;
  }
}

export async function startReadySession(url: string, sessionId: string): Promise<void> {
  const started = await fetch(`${url}/whatsapp-web/session/${sessionId}/start`, { method: 'POST' });
  if (started.status !== 201) throw new Error(`start: ${started.status}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const body = (await (await fetch(`${url}/whatsapp-web/session/${sessionId}`)).json()) as { status: string };
    if (body.status === 'ready') return;
    if (Date.now() > deadline) throw new Error(`session ${sessionId} not ready: ${body.status}`);
    await delay(50);
  }
}

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

/**
 * POSTs a sync with `clients` sockets in the room (the first checks the event order) and measures
 * the time to its answer.
 */
export async function measureSync(url: string, sessionId: string, limitPerChat: number, clients: number): Promise<SyncMeasurement> {
  const sockets = await Promise.all(Array.from({ length: clients }, () => joinedSocket(url, sessionId)));
  const check = new OrderCheck();
  const done = new Promise<void>((resolve) => {
    if (sockets.length === 0) return resolve();
    sockets[0].on('sync_chats', (e) => check.accept(e));
    sockets[0].once('sync_chats_done', () => resolve());
  });
  try {
    const started = performance.now();
    const response = await fetch(`${url}/whatsapp-web/session/${sessionId}/sync-chats?limitPerChat=${limitPerChat}`, { method: 'POST' });
    const elapsedMs = performance.now() - started;
    const body = (await response.json()) as { messagesSynced: number; chatsProcessed: number; message: string };
    if (response.status !== 200) throw new Error(`sync: ${response.status} ${body.message}`);
    await done;
    if (check.error) throw new Error(`event order broken: ${check.error}`);
    if (sockets.length > 0 && check.events !== 2 * body.chatsProcessed + 1) {
      throw new Error(`expected ${2 * body.chatsProcessed + 1} sync_chats events, got ${check.events}`);
    }
    return { elapsedMs, messagesSynced: body.messagesSynced, chatsProcessed: body.chatsProcessed, events: check.events };
  } finally {
    for (const socket of sockets) socket.close();
  }
}
