import { adminQuery } from '../test/setup/test-postgres';
import { WebhookReceiver } from '../test/support/webhook-receiver';
import { BenchPostgres } from './bench-postgres';
import { ServerProcess } from './server-process';
import { SyncMeasurement, measureSync, startReadySession } from './sync-driver';
import { until } from './webhook-live-server';

export interface WebhookSyncRun extends SyncMeasurement {
  webhook: boolean;
  round: number;
  messagesPerSecond: number;
  /** Deliveries the run's session wrote, by event (the webhook arm; empty without). */
  deliveries: Record<string, number>;
}

export interface WebhookSyncCost {
  runs: WebhookSyncRun[];
  medianWith: number;
  medianWithout: number;
  /** Median msg/s with WEBHOOK_URL over the median without: the figure compared with the target. */
  ratio: number;
  /** Per round: the mean with over the mean without, in msg/s. */
  ratioPerRound: number[];
  /** Median CPU seconds the server used for the sync, with and without: a view less swayed by the machine's drift. */
  medianServerCpu: { with: number; without: number };
}

export type WithServer = <T>(label: string, env: Record<string, string>, work: (server: ServerProcess, databaseUrl: string) => Promise<T>) => Promise<T>;

const SESSION = 'run';

/**
 * What a configured webhook costs a full sync of 100k messages: a full run writes no `message`
 * events, only its `sync_chats_done`, so the outbox should cost next to nothing. Each run is its own
 * server (WEBHOOK_URL is process-wide) on a fresh database; the arms alternate A B B A (a second
 * round B A A B, and so on), so that the machine's drift weighs on both alike. Each server first
 * syncs its withServer session with one message a chat (the code paths compiled), then a fresh
 * session is measured; in the webhook arm the receiver must get exactly one `sync_chats_done` of it
 * and no `message`.
 */
export async function measureWebhookSyncCost(pg: BenchPostgres, rounds: number, withServer: WithServer): Promise<WebhookSyncCost> {
  const receiver = await WebhookReceiver.start();
  const runs: WebhookSyncRun[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const first = round % 2 === 0;
      for (const webhook of [first, !first, !first, first]) {
        const path = `/sync/${runs.length}`;
        const env: Record<string, string> = webhook ? { WEBHOOK_URL: receiver.url(path) } : {};
        const run = await withServer(`webhooks_${runs.length}`, env, async (server, databaseUrl) => {
          await measureSync(server, 'bench', 1, { clients: 0 });
          await startReadySession(server.url, SESSION);
          await pg.settle(databaseUrl);
          const measured = await measureSync(server, SESSION, 100, { clients: 0 });
          const deliveries = await deliveriesOf(databaseUrl);
          if (webhook) await checkReceived(receiver, path, databaseUrl, deliveries);
          else if (Object.keys(deliveries).length > 0) throw new Error(`webhooks: without WEBHOOK_URL the run wrote deliveries ${JSON.stringify(deliveries)}`);
          return { ...measured, deliveries };
        });
        runs.push({ ...run, webhook, round, messagesPerSecond: run.messagesSynced / (run.elapsedMs / 1000) });
      }
    }
  } finally {
    await receiver.close();
  }
  const rate = (webhook: boolean, round?: number) => runs.filter((r) => r.webhook === webhook && (round === undefined || r.round === round)).map((r) => r.messagesPerSecond);
  const medianWith = median(rate(true));
  const medianWithout = median(rate(false));
  const ratioPerRound = Array.from({ length: rounds }, (_, round) => mean(rate(true, round)) / mean(rate(false, round)));
  const cpu = (webhook: boolean) => median(runs.filter((r) => r.webhook === webhook).map((r) => r.serverCpuSeconds));
  return { runs, medianWith, medianWithout, ratio: medianWith / medianWithout, ratioPerRound, medianServerCpu: { with: cpu(true), without: cpu(false) } };
}

/** The measured session's delivery rows, counted by event. */
async function deliveriesOf(databaseUrl: string): Promise<Record<string, number>> {
  const { rows } = await adminQuery(databaseUrl, 'SELECT event, count(*)::int AS n FROM webhook_deliveries WHERE session_id = $1 GROUP BY event', [SESSION]);
  return Object.fromEntries((rows as Array<{ event: string; n: number }>).map((r) => [r.event, r.n]));
}

/**
 * Exactly one `sync_chats_done` of the run, and no `message`, written and received: once its row is
 * `delivered` after one attempt, no repeat can follow.
 */
async function checkReceived(receiver: WebhookReceiver, path: string, databaseUrl: string, deliveries: Record<string, number>): Promise<void> {
  if (deliveries.sync_chats_done !== 1 || deliveries.message) throw new Error(`webhooks: a full run wrote ${JSON.stringify(deliveries)}, expected one sync_chats_done and no message`);
  const settled = async () => {
    const { rows } = await adminQuery(databaseUrl, `SELECT status, attempts FROM webhook_deliveries WHERE session_id = $1 AND event = 'sync_chats_done'`, [SESSION]);
    const row = rows[0] as { status: string; attempts: number };
    if (row.status === 'delivered' && row.attempts !== 1) throw new Error(`webhooks: the run's sync_chats_done took ${row.attempts} attempts`);
    return row.status === 'delivered';
  };
  if (!(await until(settled, Date.now() + 10_000, 20))) throw new Error('webhooks: the run\'s sync_chats_done was not delivered within 10 s');
  const ofRun = receiver.acknowledged(path).filter((r) => r.body.sessionId === SESSION);
  const done = ofRun.filter((r) => r.body.event === 'sync_chats_done').length;
  const messages = ofRun.filter((r) => r.body.event === 'message').length;
  if (done !== 1 || messages !== 0) throw new Error(`webhooks: the receiver got ${done} sync_chats_done and ${messages} message of the run, expected 1 and 0`);
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
