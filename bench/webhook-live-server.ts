import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimulatedAccountSpec } from '../src/whatsapp/client/simulated/simulated-account';
import type { SimulatedLiveEvent } from '../src/whatsapp/client/simulated/simulated-live';
import { adminQuery } from '../test/setup/test-postgres';
import { chat } from '../test/support/accounts';
import { Received, WebhookReceiver } from '../test/support/webhook-receiver';
import { BenchPostgres } from './bench-postgres';
import { ServerProcess } from './server-process';
import { startReadySession } from './sync-driver';

export const LIVE_SESSION = 'bench';
const BASE = 1_764_150_000;
/** Chats the live messages go to in turn: the simulated phone's per-chat list of played messages stays short. */
const LIVE_CHATS = 100;

/** The live traffic: `count` messages, one every `everyMs`, the first `leadMs` after ready. */
export interface LiveTraffic {
  count: number;
  everyMs: number;
  leadMs: number;
}

/** The live message of index `n`: its id carries the index, which the order checks read back. */
const liveId = (chatId: string, n: number) => `false_${chatId}_LIVE${String(n).padStart(6, '0')}`;
export const liveIndex = (messageId: string): number => Number(/LIVE(\d+)$/.exec(messageId)?.[1] ?? NaN);

/**
 * A small account whose live list plays the traffic. `leadMs` keeps the ready's own work (its
 * status rows and their deliveries, the bench's polling) out of the measured traffic.
 */
function liveAccount({ count, everyMs, leadMs }: LiveTraffic): SimulatedAccountSpec {
  const chats = Array.from({ length: LIVE_CHATS }, (_, n) => chat(`${200000 + n}@c.us`, 1));
  const live = Array.from({ length: count }, (_, n): SimulatedLiveEvent => {
    const chatId = chats[n % LIVE_CHATS].id;
    const message = { id: liveId(chatId, n), fromMe: false, author: null, body: `live ${n}`, type: 'chat', timestamp: BASE + Math.floor((n * everyMs) / 1000), hasMedia: false, ack: 0 };
    return { afterMs: leadMs + n * everyMs, type: 'message', chatId, message };
  });
  return { scanAfterMs: 0, fetchLatencyMs: 0, chats, live };
}

/**
 * A server with the traffic's account on a fresh database, its session ready (the live list then
 * starts playing); no run on ready (SYNC_ON_READY=off). The checkpoint comes before the start, not
 * during the traffic. A server stopped with live messages still queued logs each as not stored.
 */
export async function withLiveServer<T>(
  pg: BenchPostgres,
  label: string,
  traffic: LiveTraffic,
  env: Record<string, string>,
  work: (server: ServerProcess, databaseUrl: string) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'wa-bench-webhooks-'));
  const file = join(dir, 'account.json');
  writeFileSync(file, JSON.stringify(liveAccount(traffic)));
  const url = await pg.freshDatabase(label);
  try {
    await pg.checkpoint();
    const server = await ServerProcess.start({ DATABASE_URL: url, SIMULATED_ACCOUNT: file, SYNC_ON_READY: 'off', ...env });
    try {
      await startReadySession(server.url, LIVE_SESSION);
      return await work(server, url);
    } finally {
      await server.stop();
    }
  } finally {
    await pg.dropDatabase(url);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A delivery row as the measurements read it: `createdMs` is now() of the transaction that wrote it. */
export interface DeliveryTimes {
  id: string;
  seq: number;
  sessionId: string;
  event: string;
  status: string;
  attempts: number;
  createdMs: number;
  deliveredMs: number | null;
  messageId: string | null;
}

export async function deliveryTimes(databaseUrl: string): Promise<DeliveryTimes[]> {
  const { rows } = await adminQuery(
    databaseUrl,
    `SELECT id, seq::float8 AS "seq", session_id AS "sessionId", event, status, attempts,
            EXTRACT(EPOCH FROM created_at)::float8 * 1000 AS "createdMs",
            EXTRACT(EPOCH FROM delivered_at)::float8 * 1000 AS "deliveredMs",
            payload #>> '{message,id}' AS "messageId"
     FROM webhook_deliveries ORDER BY seq`,
  );
  return rows as DeliveryTimes[];
}

/** Each delivery's first 2xx-answered arrival, in arrival order (a repeat after a lost answer is dropped). */
export function firstAcknowledgements(receiver: WebhookReceiver, path: string): Received[] {
  const seen = new Set<string>();
  return receiver.acknowledged(path).filter((r) => !seen.has(r.body.id) && seen.add(r.body.id));
}

/** Whether `values` only go up, and how many steps do not. */
export function ascending(values: number[]): { kept: boolean; inversions: number } {
  let inversions = 0;
  for (let k = 1; k < values.length; k++) if (!(values[k] > values[k - 1])) inversions++;
  return { kept: inversions === 0, inversions };
}

/** Polls `done` every 50 ms until it holds or `deadline` (epoch ms) passes; answers whether it held. */
export async function until(done: () => boolean | Promise<boolean>, deadline: number, everyMs = 50): Promise<boolean> {
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
