import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { SimulatedAccountSpec, SimulatedChatSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { adminQuery } from '../test/setup/test-postgres';
import { chat, messagesFor } from '../test/support/accounts';
import { BenchPostgres } from './bench-postgres';
import { ServerProcess } from './server-process';
import { startReadySession } from './sync-driver';

const BASE = 1_764_150_000;
const SESSION = 'bench';

export interface CatchUpMeasurement {
  chats: number;
  changedChats: number;
  /** The automatic incremental run at the restart: its own duration and calls into WhatsApp. */
  catchUpMs: number;
  catchUpFetchCalls: number;
  catchUpInserted: number;
  /** A full re-sync of the same state, right after, on the same server. */
  fullMs: number;
  fullFetchCalls: number;
  /** An incremental run right after, with nothing changed: its duration and calls into WhatsApp. */
  unchangedMs: number;
  unchangedFetchCalls: number;
  /** The rows after the catch-up equal those a fresh full sync with limitPerChat=10000 stores. */
  identical: boolean;
  messages: number;
}

interface RunView {
  syncId: string;
  status: string;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  fetchCalls: number;
  messagesInserted: number;
}

function account(chats: number, messages: number, fetchLatencyMs: number, grownEvery = 0, grownBy = 0): SimulatedAccountSpec {
  return {
    scanAfterMs: 0,
    fetchLatencyMs,
    chats: Array.from({ length: chats }, (_, n): SimulatedChatSpec => {
      const id = `${100000 + n}@c.us`;
      const more = grownEvery > 0 && n % grownEvery === 0 ? grownBy : 0;
      const last = BASE - n * 60 + more * 60;
      return chat(id, messages + more, { timestamp: last, messages: messagesFor(id, messages + more, last) });
    }),
  };
}

async function latest(url: string): Promise<RunView | undefined> {
  const response = await fetch(`${url}/whatsapp-web/session/${SESSION}/sync-chats/latest`);
  return response.status === 200 ? ((await response.json()) as RunView) : undefined;
}

async function sync(url: string, query: string): Promise<{ durationMs: number }> {
  const response = await fetch(`${url}/whatsapp-web/session/${SESSION}/sync-chats?${query}`, { method: 'POST' });
  const body = (await response.json()) as { durationMs: number; message: string };
  if (response.status !== 200) throw new Error(`sync: ${response.status} ${body.message}`);
  return body;
}

/** Every stored chat and message row of the database, as one digest. */
async function digest(url: string): Promise<{ messages: number; hash: string }> {
  const { rows } = await adminQuery(
    url,
    `SELECT (SELECT count(*)::int FROM messages) AS messages,
            md5((SELECT string_agg(concat_ws('|', session_id, wa_id, name, is_group, unread_count, timestamp, archived, pinned, raw::text), E'\\n' ORDER BY wa_id) FROM chats)
             || (SELECT string_agg(concat_ws('|', session_id, chat_id, wa_id, from_me, author, body, type, timestamp, has_media, ack, raw::text), E'\\n' ORDER BY wa_id) FROM messages)) AS hash`,
  );
  return rows[0] as { messages: number; hash: string };
}

/**
 * The catch-up scenario of issue 13: `chats` x `messages` stored; while the service is down every
 * `grownEvery`-th chat gets `grownBy` new messages; the phone answers in 40 ms. Measures the
 * automatic catch-up at the restart against a full re-sync of the same state, and checks the rows.
 */
export async function measureCatchUp(pg: BenchPostgres, chats = 1000, messages = 20, grownEvery = 50, grownBy = 5): Promise<CatchUpMeasurement> {
  const dir = mkdtempSync(join(tmpdir(), 'wa-bench-catchup-'));
  const file = join(dir, 'account.json');
  const url = await pg.freshDatabase('catchup');
  const reference = await pg.freshDatabase('catchupref');
  try {
    writeFileSync(file, JSON.stringify(account(chats, messages, 0)));
    const first = await ServerProcess.start({ DATABASE_URL: url, SIMULATED_ACCOUNT: file });
    await startReadySession(first.url, SESSION);
    await sync(first.url, 'limitPerChat=100');
    await first.stop();

    // While it is down, 2% of the chats get new messages; the phone is slow from now on.
    writeFileSync(file, JSON.stringify(account(chats, messages, 40, grownEvery, grownBy)));
    await pg.checkpoint();
    const second = await ServerProcess.start({ DATABASE_URL: url, SIMULATED_ACCOUNT: file, RESTORE_SESSIONS: 'true', SYNC_ON_READY: 'incremental' });
    let catchUp: RunView | undefined;
    try {
      const deadline = Date.now() + 120_000;
      for (;;) {
        catchUp = await latest(second.url);
        if (catchUp?.trigger === 'ready' && catchUp.status !== 'running') break;
        if (Date.now() > deadline) throw new Error(`no automatic catch-up within 120 s: ${JSON.stringify(catchUp)}`);
        await delay(20);
      }
      if (catchUp.status !== 'done') throw new Error(`the catch-up ended ${catchUp.status}`);
      const after = await digest(url);
      // Nothing changed since: what an incremental run then costs.
      const idle = await sync(second.url, 'mode=incremental&limitPerChat=100');
      const idleRun = (await latest(second.url))!;
      const full = await sync(second.url, 'mode=full&limitPerChat=100');
      const fullRun = (await latest(second.url))!;

      // What a fresh full sync with a large limit stores of the same account.
      writeFileSync(file, JSON.stringify(account(chats, messages, 0, grownEvery, grownBy)));
      const third = await ServerProcess.start({ DATABASE_URL: reference, SIMULATED_ACCOUNT: file });
      try {
        await startReadySession(third.url, SESSION);
        await sync(third.url, 'limitPerChat=10000');
      } finally {
        await third.stop();
      }
      const expected = await digest(reference);
      return {
        chats,
        changedChats: Math.ceil(chats / grownEvery),
        catchUpMs: new Date(catchUp.finishedAt!).getTime() - new Date(catchUp.startedAt).getTime(),
        catchUpFetchCalls: catchUp.fetchCalls,
        catchUpInserted: catchUp.messagesInserted,
        unchangedMs: idle.durationMs,
        unchangedFetchCalls: idleRun.fetchCalls,
        fullMs: full.durationMs,
        fullFetchCalls: fullRun.fetchCalls,
        identical: after.hash === expected.hash && after.messages === expected.messages,
        messages: after.messages,
      };
    } finally {
      await second.stop();
    }
  } finally {
    await pg.dropDatabase(url);
    await pg.dropDatabase(reference);
    rmSync(dir, { recursive: true, force: true });
  }
}
