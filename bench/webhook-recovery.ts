import { setTimeout as delay } from 'node:timers/promises';
import { adminQuery } from '../test/setup/test-postgres';
import { WebhookReceiver } from '../test/support/webhook-receiver';
import { BenchPostgres } from './bench-postgres';
import { LiveTraffic, ascending, deliveryTimes, firstAcknowledgements, until, withLiveServer } from './webhook-live-server';

export interface Recovery {
  outageMs: number;
  retryBaseMs: number;
  /** Deliveries written in all (the session's status events and the messages), and of them messages. */
  deliveries: number;
  messages: number;
  /** Answers of 500 the receiver gave; deliveries `failed` (expected none) and still pending when the bench stopped waiting. */
  refused: number;
  failed: number;
  pending: number;
  /** Waited at most this long after the recovery for the backlog to drain. */
  graceMs: number;
  /** From the receiver's recovery: to the queue head's delivery, and to the last delivery's `delivered_at` (null: not drained). */
  toHeadMs: number | null;
  toDrainedMs: number | null;
  /** Deliveries delivered after the head's and the rate they went at (up to the last `delivered_at`). */
  drainedAfterHead: number;
  drainPerSecond: number;
  /** The head's attempts, and the gap between its last refused attempt and its delivering one: its back-off in force at the recovery. */
  headAttempts: number;
  headLastBackoffMs: number | null;
  /** Every delivery's first acknowledgement came in seq order (one session, one URL: one queue). */
  orderKept: boolean;
  inversions: number;
}

/**
 * The receiver answers 500 for `outageMs` from the first `message` it gets, then 200, while the
 * traffic goes on. Only a queue's head is attempted (the others wait behind it, in order), so the
 * backlog grows while the head backs off: WEBHOOK_RETRY_BASE_MS doubled per attempt. Its back-off in
 * force when the receiver recovers decides when draining starts; then the backlog drains at the
 * worker's rate for one queue. WEBHOOK_MAX_ATTEMPTS=100 so that nothing fails.
 */
export async function measureRecovery(pg: BenchPostgres, traffic: LiveTraffic, outageMs: number, retryBaseMs: number, graceMs: number): Promise<Recovery> {
  const receiver = await WebhookReceiver.start();
  const path = '/recovery';
  let recoveredAt: number | undefined;
  receiver.answer = (r) => {
    if (recoveredAt === undefined && r.body.event === 'message') recoveredAt = r.at + outageMs;
    return recoveredAt !== undefined && r.at < recoveredAt ? 500 : 200;
  };
  const env = { WEBHOOK_URL: receiver.url(path), WEBHOOK_RETRY_BASE_MS: String(retryBaseMs), WEBHOOK_MAX_ATTEMPTS: '100' };
  try {
    return await withLiveServer(pg, 'webhooks_recovery', traffic, env, async (_server, databaseUrl) => {
      await delay(traffic.leadMs + traffic.count * traffic.everyMs);
      if (recoveredAt === undefined) throw new Error('webhooks: the receiver never got a message');
      const recovery = recoveredAt;
      await until(() => drained(databaseUrl, traffic.count), recovery + graceMs, 200);
      // Arrivals first: every one of them then has its row in what the database answers next.
      const acks = firstAcknowledgements(receiver, path);
      const rows = await deliveryTimes(databaseUrl);
      const seq = new Map(rows.map((d) => [d.id, d.seq]));
      const order = ascending(acks.map((r) => seq.get(r.body.id) ?? NaN));
      const head = rows.find((d) => d.id === receiver.at(path).find((r) => r.answered === 500)?.body.id);
      if (!head) throw new Error('webhooks: no delivery was refused');
      const headArrivals = receiver.at(path).filter((r) => r.body.id === head.id);
      const headAck = acks.find((r) => r.body.id === head.id);
      const pending = rows.filter((d) => d.status === 'pending').length;
      const lastDelivered = Math.max(...rows.map((d) => d.deliveredMs ?? -Infinity));
      const afterHead = head.deliveredMs === null ? [] : rows.filter((d) => d.deliveredMs !== null && d.deliveredMs > head.deliveredMs!);
      return {
        outageMs,
        retryBaseMs,
        deliveries: rows.length,
        messages: rows.filter((d) => d.event === 'message').length,
        refused: receiver.at(path).filter((r) => r.answered === 500).length,
        failed: rows.filter((d) => d.status === 'failed').length,
        pending,
        graceMs,
        toHeadMs: headAck ? headAck.at - recovery : null,
        toDrainedMs: pending === 0 && rows.filter((d) => d.event === 'message').length >= traffic.count ? lastDelivered - recovery : null,
        drainedAfterHead: afterHead.length,
        drainPerSecond: afterHead.length / ((lastDelivered - (head.deliveredMs ?? NaN)) / 1000),
        headAttempts: head.attempts,
        headLastBackoffMs: headAck ? headAck.at - headArrivals[headArrivals.indexOf(headAck) - 1].at : null,
        orderKept: order.kept,
        inversions: order.inversions,
      };
    });
  } finally {
    await receiver.close();
  }
}

/** Every message of the traffic has its delivery row, and none is pending. */
async function drained(databaseUrl: string, messages: number): Promise<boolean> {
  const { rows } = await adminQuery(
    databaseUrl,
    `SELECT count(*) FILTER (WHERE event = 'message')::int AS messages, count(*) FILTER (WHERE status = 'pending')::int AS pending FROM webhook_deliveries`,
  );
  const state = rows[0] as { messages: number; pending: number };
  return state.messages >= messages && state.pending === 0;
}
