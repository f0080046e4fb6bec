import { DataSource } from 'typeorm';
import { typeOrmOptions } from '../src/database/typeorm-options';
import { SettleRequest, WebhookDeliveryRepository } from '../src/webhooks/webhook-delivery.repository';
import type { SendOutcome } from '../src/webhooks/webhook-sender';
import { TestDatabase } from './support/test-database';

/**
 * The statement a queue's run makes (SETTLE_SQL) on a real database: what it records, what it
 * leases, what it gives back, where the run stops.
 */

const OK: SendOutcome = { delivered: true, statusCode: 200, error: null, durationMs: 3, interrupted: false };
const REFUSED: SendOutcome = { delivered: false, statusCode: 503, error: 'answered 503', durationMs: 2, interrupted: false };
const LEASE_MS = 15_000;
const QUEUE = { session_id: 'settle', url: 'http://receiver/settle' };

describe('SETTLE_SQL', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let repo: WebhookDeliveryRepository;

  beforeAll(async () => {
    db = await TestDatabase.create();
    dataSource = new DataSource({ ...typeOrmOptions(db.url, 2), migrationsRun: false });
    await dataSource.initialize();
    repo = new WebhookDeliveryRepository(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });
  beforeEach(async () => {
    await db.query('TRUNCATE webhook_deliveries CASCADE');
  });

  /** `n` deliveries of the queue, in order; answers their ids. */
  async function write(n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let k = 1; k <= n; k++) {
      const [row] = await db.query<{ id: string }>(`INSERT INTO webhook_deliveries (session_id, url, event, payload) VALUES ($1, $2, 'message', $3) RETURNING id`, [QUEUE.session_id, QUEUE.url, JSON.stringify({ k })]);
      ids.push(row.id);
    }
    return ids;
  }

  const settle = (request: Partial<SettleRequest>, maxAttempts = 10) =>
    repo.settle(QUEUE, { outcomes: [], held: [], sending: null, want: 32, renew: false, ...request }, maxAttempts, LEASE_MS);
  const rows = () =>
    db.query<{ id: string; status: string; attempts: number; leased: boolean; last_attempt_at: Date | null }>('SELECT id, status, attempts, lease_until IS NOT NULL AS leased, last_attempt_at FROM webhook_deliveries ORDER BY seq');
  const runOf = (answer: Awaited<ReturnType<typeof settle>>, names: Map<string, string>) => answer.run.map((r) => `${names.get(r.id)}${r.leased ? ' leased' : ' held'}`);

  it('records the attempts in order, leases the queue\'s next rows, and gives back what it held and no longer runs (count and last attempt restored)', async () => {
    const ids = await write(4);
    const names = new Map(ids.map((id, k) => [id, `d${k + 1}`]));
    const [d1] = await repo.claim(16, LEASE_MS);
    const first = await settle({ outcomes: [{ row: d1, sent: OK, retryMs: 1000 }], want: 2 });
    expect({ finished: [...first.finished].map(([id, s]) => `${names.get(id)}:${s}`), run: runOf(first, names) }).toEqual({ finished: ['d1:delivered'], run: ['d2 leased', 'd3 leased'] });
    const [d2, d3] = first.run.map((r) => r.leased!);
    expect([d2.attempts, d3.attempts, d2.previous_attempt_at, d3.previous_attempt_at]).toEqual([1, 1, null, null]);
    // d2 was sent and answered; d3 is held; the run may hold one more.
    const second = await settle({ outcomes: [{ row: d2, sent: OK, retryMs: 1000 }], held: [d3], want: 2 });
    expect(runOf(second, names)).toEqual(['d3 held', 'd4 leased']);
    // The run ends (a shutdown): d3 and d4 are given back as they were before their lease.
    const last = await settle({ held: [d3, second.run[1].leased!], want: 0 });
    expect(last.run).toEqual([]);
    expect((await rows()).map((r) => ({ ...r, id: names.get(r.id) }))).toEqual([
      { id: 'd1', status: 'delivered', attempts: 1, leased: false, last_attempt_at: expect.any(Date) },
      { id: 'd2', status: 'delivered', attempts: 1, leased: false, last_attempt_at: expect.any(Date) },
      { id: 'd3', status: 'pending', attempts: 0, leased: false, last_attempt_at: null },
      { id: 'd4', status: 'pending', attempts: 0, leased: false, last_attempt_at: null },
    ]);
    const attempts = await db.query<{ delivery_id: string; status_code: number; duration_ms: number }>('SELECT delivery_id, status_code, duration_ms FROM webhook_attempts ORDER BY id');
    expect(attempts.map((a) => `${names.get(a.delivery_id)}:${a.status_code}:${a.duration_ms}`)).toEqual(['d1:200:3', 'd2:200:3']);
  });

  it('an attempt that stays pending (its back-off) ends the run; one that failed for good leaves the queue, and the run goes on', async () => {
    const ids = await write(3);
    const names = new Map(ids.map((id, k) => [id, `d${k + 1}`]));
    const [d1] = await repo.claim(16, LEASE_MS);
    const retrying = await settle({ outcomes: [{ row: d1, sent: REFUSED, retryMs: 60_000 }] });
    expect({ finished: retrying.finished.get(d1.id), run: retrying.run }).toEqual({ finished: 'pending', run: [] });
    // Its back-off over, claimed again: its last attempt allowed fails, and the ones behind it go.
    await db.query('UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = $1', [d1.id]);
    const [again] = await repo.claim(16, LEASE_MS);
    const failed = await settle({ outcomes: [{ row: again, sent: REFUSED, retryMs: 60_000 }] }, 2);
    expect({ finished: failed.finished.get(d1.id), run: runOf(failed, names) }).toEqual({ finished: 'failed', run: ['d2 leased', 'd3 leased'] });
  });

  it('a failed delivery retried while the run holds later ones: it goes first, in its place by seq', async () => {
    const ids = await write(3);
    const names = new Map(ids.map((id, k) => [id, `d${k + 1}`]));
    const [d1] = await repo.claim(16, LEASE_MS);
    const failed = await settle({ outcomes: [{ row: d1, sent: REFUSED, retryMs: 1000 }] }, 1);
    const [d2, d3] = failed.run.map((r) => r.leased!);
    expect(await repo.retry(d1.id)).not.toBeNull();
    const next = await settle({ outcomes: [{ row: d2, sent: OK, retryMs: 1000 }], held: [d3] });
    expect(runOf(next, names)).toEqual(['d1 leased', 'd3 held']);
  });

  it('the row being sent is neither in the run nor given back; a row another worker holds ends the run, and what is held after it is given back', async () => {
    const ids = await write(4);
    const names = new Map(ids.map((id, k) => [id, `d${k + 1}`]));
    const [d1] = await repo.claim(16, LEASE_MS);
    const first = await settle({ outcomes: [{ row: d1, sent: OK, retryMs: 1000 }] });
    const [d2, d3, d4] = first.run.map((r) => r.leased!);
    const sending = await settle({ held: [d3, d4], sending: d2.id });
    expect(runOf(sending, names)).toEqual(['d3 held', 'd4 held']);
    // d3's lease ran out and another worker took it (its attempt counted again).
    await db.query('UPDATE webhook_deliveries SET attempts = attempts + 1 WHERE id = $1', [d3.id]);
    const taken = await settle({ outcomes: [{ row: d2, sent: OK, retryMs: 1000 }], held: [d3, d4] });
    expect(taken.run).toEqual([]);
    expect((await rows()).map((r) => `${names.get(r.id)}:${r.status}:${r.attempts}:${r.leased}`)).toEqual(['d1:delivered:1:false', 'd2:delivered:1:false', 'd3:pending:2:true', 'd4:pending:0:false']);
  });

  it('an attempt of a row this worker no longer holds is not recorded; a held row deleted (a purge) is not in the run', async () => {
    const ids = await write(3);
    const names = new Map(ids.map((id, k) => [id, `d${k + 1}`]));
    const [d1] = await repo.claim(16, LEASE_MS);
    const first = await settle({ outcomes: [{ row: d1, sent: OK, retryMs: 1000 }] });
    const [d2, d3] = first.run.map((r) => r.leased!);
    await db.query('UPDATE webhook_deliveries SET attempts = 7 WHERE id = $1', [d2.id]);
    await db.query('DELETE FROM webhook_deliveries WHERE id = $1', [d3.id]);
    const answer = await settle({ outcomes: [{ row: d2, sent: OK, retryMs: 1000 }], held: [d3] });
    expect({ finished: [...answer.finished.keys()].map((id) => names.get(id)), run: answer.run }).toEqual({ finished: [], run: [] });
    expect((await rows()).map((r) => `${names.get(r.id)}:${r.status}:${r.attempts}`)).toEqual(['d1:delivered:1', 'd2:pending:7']);
    const attempts = await db.query<{ delivery_id: string }>('SELECT delivery_id FROM webhook_attempts ORDER BY id');
    expect(attempts.map((a) => names.get(a.delivery_id))).toEqual(['d1']);
  });

  it('renews the leases of the held rows still in the run when asked', async () => {
    await write(2);
    const [d1] = await repo.claim(16, LEASE_MS);
    const first = await settle({ outcomes: [{ row: d1, sent: OK, retryMs: 1000 }] });
    const [d2] = first.run.map((r) => r.leased!);
    await db.query("UPDATE webhook_deliveries SET lease_until = now() + interval '1 second' WHERE id = $1", [d2.id]);
    await settle({ held: [d2], renew: true });
    const [{ left }] = await db.query<{ left: number }>('SELECT EXTRACT(EPOCH FROM lease_until - now())::float8 AS left FROM webhook_deliveries WHERE id = $1', [d2.id]);
    expect(left).toBeGreaterThan(10);
  });
});

