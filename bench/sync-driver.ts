import { setTimeout as delay } from 'node:timers/promises';
import { ServerProcess } from './server-process';
import { WatcherProcess } from './watcher-process';

export interface SyncMeasurement {
  elapsedMs: number;
  messagesSynced: number;
  chatsProcessed: number;
  events: number;
  /** CPU the watching clients used (their own process; 0 without clients). */
  clientsCpuSeconds: number;
  /** CPU the server process used between the request and its answer. */
  serverCpuSeconds: number;
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

/**
 * Who watches the run: `clients` sockets in the room, socket.io-clients or lean protocol clients,
 * held by `via` (else by a watcher process started for this run alone), connected to `watchUrl`
 * (another instance, whose sockets get the run's events through Redis), by default to the server
 * that syncs.
 */
export interface Watchers {
  clients: number;
  lean?: boolean;
  via?: WatcherProcess;
  watchUrl?: string;
}

/**
 * POSTs a sync with the watchers in the room, checking that every event arrives at every client and
 * in order, and measures the time to its answer.
 */
export async function measureSync(server: ServerProcess, sessionId: string, limitPerChat: number, { clients, lean = false, via, watchUrl }: Watchers): Promise<SyncMeasurement> {
  const url = server.url;
  const own = clients > 0 && !via ? WatcherProcess.start() : undefined;
  const holder = via ?? own;
  try {
    const watchers = holder && clients > 0 ? await holder.watch({ url: watchUrl ?? url, sessionId, clients, lean }) : undefined;
    // Only the sync itself: the clients' connections and joins happened before.
    const cpuBefore = server.cpuSeconds();
    const started = performance.now();
    const response = await fetch(`${url}/whatsapp-web/session/${sessionId}/sync-chats?limitPerChat=${limitPerChat}`, { method: 'POST' });
    const elapsedMs = performance.now() - started;
    const serverCpuSeconds = server.cpuSeconds() - cpuBefore;
    const body = (await response.json()) as { messagesSynced: number; chatsProcessed: number; message: string };
    if (response.status !== 200) throw new Error(`sync: ${response.status} ${body.message}`);
    const expected = 2 * body.chatsProcessed + 1;
    const seen = watchers ? await watchers.finished() : { events: [], errors: [], cpuSeconds: 0 };
    if (seen.errors.length > 0) throw new Error(`event order broken: ${seen.errors[0]}`);
    const short = seen.events.find((n) => n !== expected);
    if (short !== undefined) throw new Error(`expected ${expected} sync_chats events at every client, one got ${short}`);
    return { elapsedMs, messagesSynced: body.messagesSynced, chatsProcessed: body.chatsProcessed, events: seen.events[0] ?? 0, clientsCpuSeconds: seen.cpuSeconds, serverCpuSeconds };
  } finally {
    own?.stop();
  }
}
