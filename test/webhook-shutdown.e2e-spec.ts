import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chat } from './support/accounts';
import { ServiceProcess } from './support/service-process';
import { TestDatabase } from './support/test-database';
import { waitFor } from './support/wait';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * SIGTERM, the service as a real process, while many deliveries hang at the receiver: a clean exit,
 * every attempt recorded, no lease left, everything sent after the restart, in order.
 */

const BASE = 1_764_150_000;
const LIVE = 10;
const SESSIONS = 12;
/** The worker's grace for deliveries in flight at a shutdown (webhook-worker.service.ts). */
const SHUTDOWN_GRACE_MS = 3000;

jest.setTimeout(120_000);

describe('SIGTERM with many deliveries in flight to a receiver that hangs', () => {
  let db: TestDatabase;
  let receiver: WebhookReceiver;
  let service: ServiceProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'wa-hostile-term-'));
  const accountFile = join(dir, 'account.json');

  beforeAll(async () => {
    db = await TestDatabase.create();
    receiver = await WebhookReceiver.start();
    const live = Array.from({ length: LIVE }, (_, n) => ({
      afterMs: 0,
      type: 'message',
      chatId: 'chat1@c.us',
      message: { id: `false_chat1@c.us_3EB0TERM${n}`, fromMe: false, author: null, body: `live ${n}`, type: 'chat', timestamp: BASE + 100 + n, hasMedia: false, ack: 0 },
    }));
    writeFileSync(accountFile, JSON.stringify({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [chat('chat1@c.us', 3)], live }));
  });
  afterAll(async () => {
    service?.kill();
    await receiver?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (timeoutMs: number) => ({
    WA_PROVIDER: 'simulated',
    SIMULATED_ACCOUNT: accountFile,
    DB_POOL_SIZE: '5',
    RATE_LIMIT_MAX: '0',
    WEBHOOK_RETRY_BASE_MS: '50',
    WEBHOOK_TIMEOUT_MS: String(timeoutMs),
    WEBHOOK_MAX_ATTEMPTS: '100',
  });
  const rows = () => db.query<{ id: string; session_id: string; status: string; attempts: number; event: string; lease_until: Date | null }>('SELECT id, session_id, status, attempts, event, lease_until FROM webhook_deliveries ORDER BY seq');

  async function runRound(label: string, timeoutMs: number): Promise<void> {
    await db.query('TRUNCATE webhook_deliveries CASCADE');
    await db.query('TRUNCATE sessions CASCADE');
    receiver.received.length = 0;
    receiver.answer = () => 'hang';
    const path = `/term-${label}`;
    const first = await ServiceProcess.start({ ...env(timeoutMs), DATABASE_URL: db.url, WEBHOOK_URL: receiver.url(path) });
    service = first;
    for (let s = 0; s < SESSIONS; s++) expect((await fetch(`${first.baseUrl}/whatsapp-web/session/${label}-${s}/start`, { method: 'POST' })).status).toBe(201);
    // One head in flight per session (queue), each hanging at the receiver.
    await waitFor(async () => new Set(receiver.at(path).map((r) => r.body.sessionId)).size === SESSIONS, 'every session\'s head in flight', 20_000);
    await waitFor(async () => (await rows()).filter((r) => r.event === 'message').length === SESSIONS * LIVE, 'every live message written', 20_000);
    const stop = await first.stop('SIGTERM');
    service = undefined;
    const log = first.log;
    // The process must exit cleanly, within its 15 s limit.
    // Checked at the end, so that the re-send after the restart is checked too.
    const exitSeen = { label, code: stop.code, signal: stop.signal, forced: /shutdown took over/.test(log), under15s: stop.ms < 15_000 };
    const after = await rows();
    // Nothing the receiver never acknowledged is marked delivered.
    expect(after.filter((r) => r.status === 'delivered')).toEqual([]);
    expect(receiver.acknowledged(path)).toEqual([]);
    // A clean shutdown records the outcome of each attempt it waited for (a timeout), and gives its
    // lease back: otherwise the next start waits for the lease (timeout + 5 s) before re-sending.
    const [unrecorded] = await db.query<{ claimed: number; recorded: number; leased: number }>(
      `SELECT (SELECT COALESCE(sum(attempts), 0)::int FROM webhook_deliveries) AS claimed, (SELECT count(*)::int FROM webhook_attempts) AS recorded,
              (SELECT count(*)::int FROM webhook_deliveries WHERE lease_until > now()) AS leased`,
    );
    const shutdownProblems = { label, attemptsClaimed: unrecorded.claimed, attemptsRecorded: unrecorded.recorded, leasesLeft: unrecorded.leased, sqlErrorsLogged: log.split('\n').filter((l) => /"level":"error"/.test(l) && /"context":"SQL"/.test(l)).length };

    // Restart: every delivery is re-sent and delivered, in order per session, each acknowledged once.
    receiver.answer = () => 200;
    const second = await ServiceProcess.start({ ...env(timeoutMs), DATABASE_URL: db.url, WEBHOOK_URL: receiver.url(path), RESTORE_SESSIONS: 'false' });
    service = second;
    await waitFor(async () => (await rows()).every((r) => r.status === 'delivered'), 'every delivery delivered after the restart', 60_000);
    const acknowledged = receiver.acknowledged(path).map((r) => r.body.id);
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
    for (const sessionId of new Set(after.map((r) => r.session_id))) {
      const ofSession = after.filter((r) => r.session_id === sessionId).map((r) => r.id);
      const set = new Set(ofSession);
      expect({ sessionId, ids: acknowledged.filter((id) => set.has(id)) }).toEqual({ sessionId, ids: ofSession });
    }
    const stopped = await second.stop('SIGTERM');
    service = undefined;
    expect(stopped.code).toBe(0);
    // What the first process logged about its in-flight deliveries at shutdown (for the report).
    expect(exitSeen).toEqual({ label, code: 0, signal: null, forced: false, under15s: true });
    // Every attempt recorded: those that timed out within the shutdown's grace count, those cut
    // short after it (a timeout past the grace) are recorded as interrupted and do not count.
    const interrupted = timeoutMs > SHUTDOWN_GRACE_MS ? SESSIONS : 0;
    expect(shutdownProblems).toEqual({ label, attemptsClaimed: SESSIONS - interrupted, attemptsRecorded: SESSIONS, leasesLeft: 0, sqlErrorsLogged: 0 });
    const [{ n }] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_attempts WHERE error = 'interrupted: the service is shutting down'");
    expect(n).toBe(interrupted);

  }

  it('WEBHOOK_TIMEOUT_MS=2000: exit 0 well within 15 s, nothing marked delivered, all re-sent after the restart', async () => {
    await runRound('t2', 2000);
  });

  it('WEBHOOK_TIMEOUT_MS=20000 (allowed, up to 120000): still exits 0 within 15 s (in-flight attempts are abandoned, not waited for)', async () => {
    await runRound('t20', 20_000);
  });
});
