import { setTimeout as delay } from 'node:timers/promises';
import { adminQuery } from '../test/setup/test-postgres';
import { WebhookReceiver } from '../test/support/webhook-receiver';
import { BenchPostgres } from './bench-postgres';
import { LiveTraffic, ascending, deliveryTimes, firstAcknowledgements, liveIndex, until, withLiveServer } from './webhook-live-server';

export interface LiveLatency {
  offered: number;
  /** `message` delivery rows written (one a stored live message), and those the receiver acknowledged. */
  written: number;
  delivered: number;
  /**
   * Not acknowledged when the bench stopped waiting, `graceMs` after the traffic: not written (the
   * message not stored yet), pending (written, not delivered by then), failed.
   */
  lost: number;
  lostNotWritten: number;
  lostPending: number;
  lostFailed: number;
  duplicates: number;
  /**
   * Over every written message, from its transaction to its arrival; one not delivered counts as
   * later than any delivered (Infinity, shown as "not delivered").
   */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The same over the delivered messages alone (results.json only: what the delivered ones waited). */
  ofDelivered: { p50Ms: number; p99Ms: number; maxMs: number };
  /** The rate the messages were stored at, from the first to the last row's created_at (offered: 1000 / everyMs). */
  writtenPerSecond: number;
  /** Acknowledged messages arrived in play order (which is their seq order, `seqFollowsPlay`). */
  orderKept: boolean;
  inversions: number;
  seqFollowsPlay: boolean;
  graceMs: number;
  serverCpuSeconds: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;

/**
 * Live traffic into one ready session, to a receiver that answers 200 at once: per message, the time
 * from its transaction (the delivery row's created_at is now() of the transaction that stored the
 * message and wrote the row; the commit is a little later, so this slightly overstates) to its
 * arrival at the receiver (the same machine's clock). Waits `graceMs` after the traffic at most.
 */
export async function measureLiveLatency(pg: BenchPostgres, traffic: LiveTraffic, graceMs: number): Promise<LiveLatency> {
  const receiver = await WebhookReceiver.start();
  const path = '/live';
  try {
    return await withLiveServer(pg, 'webhooks_live', traffic, { WEBHOOK_URL: receiver.url(path) }, async (server, databaseUrl) => {
      const cpuBefore = server.cpuSeconds();
      const messages = () => firstAcknowledgements(receiver, path).filter((r) => r.body.event === 'message');
      await delay(traffic.leadMs + traffic.count * traffic.everyMs);
      await until(() => receiver.acknowledged(path).length >= traffic.count && messages().length >= traffic.count, Date.now() + graceMs, 100);
      const serverCpuSeconds = server.cpuSeconds() - cpuBefore;
      // Arrivals first (both lists at one moment): every one of them then has its row in what the database answers next.
      const arrived = messages();
      const acknowledged = receiver.acknowledged(path).filter((r) => r.body.event === 'message').length;
      const rows = (await deliveryTimes(databaseUrl)).filter((d) => d.event === 'message');
      const at = new Map(arrived.map((r) => [r.body.id, r.at]));
      const latencies = rows.map((d) => (at.has(d.id) ? at.get(d.id)! - d.createdMs : Infinity)).sort((a, b) => a - b);
      const delivered = latencies.filter(Number.isFinite);
      const order = ascending(arrived.map((r) => liveIndex((r.body.payload.message as { id: string }).id)));
      const missing = rows.filter((d) => !at.has(d.id));
      return {
        offered: traffic.count,
        written: rows.length,
        delivered: arrived.length,
        lost: traffic.count - arrived.length,
        lostNotWritten: traffic.count - rows.length,
        lostPending: missing.filter((d) => d.status !== 'failed').length,
        lostFailed: missing.filter((d) => d.status === 'failed').length,
        duplicates: acknowledged - arrived.length,
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
        maxMs: latencies[latencies.length - 1] ?? NaN,
        ofDelivered: { p50Ms: percentile(delivered, 0.5), p99Ms: percentile(delivered, 0.99), maxMs: delivered[delivered.length - 1] ?? NaN },
        writtenPerSecond: rows.length > 1 ? (rows.length - 1) / ((rows[rows.length - 1].createdMs - rows[0].createdMs) / 1000) : NaN,
        orderKept: order.kept,
        inversions: order.inversions,
        seqFollowsPlay: ascending(rows.map((d) => liveIndex(d.messageId ?? ''))).kept,
        graceMs,
        serverCpuSeconds,
      };
    });
  } finally {
    await receiver.close();
  }
}

/**
 * The same traffic without a webhook, for reference: the rate one session stores live messages at
 * (each its own transaction, one after another), which bounds the rate the outbox is offered.
 */
export async function measureLiveIngest(pg: BenchPostgres, traffic: LiveTraffic, graceMs: number): Promise<{ offeredPerSecond: number; writtenPerSecond: number; stored: number }> {
  return withLiveServer(pg, 'webhooks_ingest', traffic, {}, async (_server, databaseUrl) => {
    const stored = async () => {
      const { rows } = await adminQuery(
        databaseUrl,
        `SELECT count(*)::int AS n, COALESCE(EXTRACT(EPOCH FROM max(created_at) - min(created_at)), 0)::float8 AS span FROM messages WHERE wa_id LIKE '%\\_LIVE%'`,
      );
      return rows[0] as { n: number; span: number };
    };
    await delay(traffic.leadMs + traffic.count * traffic.everyMs);
    await until(async () => (await stored()).n >= traffic.count, Date.now() + graceMs, 200);
    const { n, span } = await stored();
    return { offeredPerSecond: 1000 / traffic.everyMs, writtenPerSecond: (n - 1) / span, stored: n };
  });
}
