import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { seedAccount } from './support/accounts';
import { ServiceProcess } from './support/service-process';
import { TcpRelay } from './support/tcp-relay';
import { TestDatabase } from './support/test-database';
import { waitFor } from './support/wait';

/**
 * Several service processes on one PostgreSQL (and the machine's Redis), each session owned by one
 * of them through its lease: calls on any instance answered by the owner, one run per session,
 * takeover after SIGKILL with the run shown interrupted and the catch-up complete, a paused owner
 * that comes back writing nothing more, hand-over at SIGTERM, and a healthy owner keeping its leases
 * through a short loss of PostgreSQL.
 */

type Service = ServiceProcess & { baseUrl: string };
type Json = Record<string, unknown>;

const call = (base: string, method: string, path: string) =>
  fetch(`${base}${path}`, { method }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }));

/** The seed's 125 messages in 3 chats, each fetch slow enough that a run is still going when a test strikes. */
const MESSAGES = 125;

describe('session leases across instances', () => {
  const prefix = `wa-lease-${process.pid}-${Date.now()}`;
  const dir = mkdtempSync(join(tmpdir(), 'wa-leases-'));
  const accountFile = join(dir, 'account.json');
  const services: Service[] = [];
  let db: TestDatabase;
  let env: Record<string, string>;

  const start = async (id: string, extra: Record<string, string> = {}): Promise<Service> => {
    const service = await ServiceProcess.start({ ...env, INSTANCE_ID: id, ...extra });
    services.push(service);
    return service;
  };
  const lease = async (sessionId: string) =>
    (await db.query<{ owner: string; generation: string }>('SELECT owner, generation FROM session_leases WHERE session_id = $1', [sessionId]))[0];
  const runs = (sessionId: string) =>
    db.query<{ trigger: string; status: string }>('SELECT trigger, status FROM sync_runs WHERE session_id = $1 ORDER BY started_at', [sessionId]);
  const messageCounts = async (sessionId: string) =>
    (await db.query<{ n: number; ids: number }>('SELECT count(*)::int AS n, count(DISTINCT wa_id)::int AS ids FROM messages WHERE session_id = $1', [sessionId]))[0];
  /** Started on `service`, logged in (the login kept in PostgreSQL), and its catch-up at `ready` over. */
  const readyOn = async (service: Service, sessionId: string): Promise<void> => {
    expect((await call(service.baseUrl, 'POST', `/whatsapp-web/session/${sessionId}/start`)).status).toBe(201);
    await waitFor(async () => (await runs(sessionId)).some((run) => run.trigger === 'ready' && run.status === 'done'), `${sessionId}'s catch-up at ready`, 20_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${service.log}`);
    });
  };

  beforeAll(async () => {
    db = await TestDatabase.create();
    writeFileSync(accountFile, JSON.stringify({ ...seedAccount(), fetchLatencyMs: 1200 }));
    env = {
      DATABASE_URL: db.url,
      WA_PROVIDER: 'simulated',
      SIMULATED_ACCOUNT: accountFile,
      WA_AUTH_STORE: 'postgres',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: prefix,
      DB_POOL_SIZE: '3',
      SESSION_LEASE_TTL_MS: '2000',
      SYNC_ON_READY: 'incremental',
    };
  });
  afterAll(async () => {
    for (const service of services) service.kill();
    await Promise.all(services.map((service) => service.exited));
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a session started on A is owned by A as every instance says; a call on B is A\'s answer, and triggers on A and B make one run', async () => {
    const a = await start('A');
    const b = await start('B');
    await readyOn(a, 's1');
    expect(await lease('s1')).toEqual({ owner: 'A', generation: '1' });
    for (const base of [a.baseUrl, b.baseUrl]) {
      expect(await call(base, 'GET', '/whatsapp-web/session/s1')).toMatchObject({ status: 200, body: { sessionId: 's1', status: 'ready', owner: 'A' } });
      expect((await call(base, 'GET', '/whatsapp-web/sessions')).body).toEqual([expect.objectContaining({ sessionId: 's1', status: 'ready', owner: 'A' })]);
    }
    // A start on B of the session A runs: A's answer (it runs already), no second client, no new claim.
    expect(await call(b.baseUrl, 'POST', '/whatsapp-web/session/s1/start')).toMatchObject({ status: 201, body: { status: 'ready', owner: 'A' } });
    expect(await lease('s1')).toEqual({ owner: 'A', generation: '1' });

    // A trigger on A, and one on B while A's run goes on (each fetch takes 1.2 s): B's joins it.
    const first = call(a.baseUrl, 'POST', '/whatsapp-web/session/s1/sync-chats');
    await waitFor(async () => (await runs('s1')).some((run) => run.trigger === 'api' && run.status === 'running'), 'the run on A');
    const [onA, onB] = await Promise.all([first, call(b.baseUrl, 'POST', '/whatsapp-web/session/s1/sync-chats')]);
    expect([onA.status, onB.status]).toEqual([200, 200]);
    expect(onB.body.syncId).toBe(onA.body.syncId);
    expect(await runs('s1')).toEqual([
      { trigger: 'ready', status: 'done' },
      { trigger: 'api', status: 'done' },
    ]);
    expect(await call(b.baseUrl, 'GET', '/whatsapp-web/session/s1/sync-chats/latest')).toMatchObject({ status: 200, body: { syncId: onA.body.syncId, status: 'done' } });
    // Relayed as the owner answered: status, body, and the headers of the body (its length).
    const path = `/whatsapp-web/session/s1/chats/${encodeURIComponent('chat1@c.us')}/messages?limit=2`;
    const [fromA, viaB] = await Promise.all([fetch(`${a.baseUrl}${path}`), fetch(`${b.baseUrl}${path}`)]);
    expect([viaB.status, viaB.headers.get('content-type'), viaB.headers.get('content-length')]).toEqual([fromA.status, fromA.headers.get('content-type'), fromA.headers.get('content-length')]);
    expect(viaB.headers.get('content-length')).not.toBeNull();
    expect(await viaB.json()).toEqual(await fromA.json());
  });

  it('two starts of one new session at once, on A and on B: one claim, one client; the other call answers as the owner or says who it is', async () => {
    const [a, b] = services;
    const answers = await Promise.all([call(a.baseUrl, 'POST', '/whatsapp-web/session/race/start'), call(b.baseUrl, 'POST', '/whatsapp-web/session/race/start')]);
    const owner = (await lease('race'))!.owner;
    expect(await lease('race')).toEqual({ owner, generation: '1' });
    for (const answer of answers) {
      if (answer.status === 201) expect(answer.body).toMatchObject({ sessionId: 'race', owner });
      else expect(answer).toEqual({ status: 409, body: { statusCode: 409, error: 'Conflict', message: `Session race is run by instance ${owner}` } });
    }
    expect(answers.some((answer) => answer.status === 201)).toBe(true);
    const loser = owner === 'A' ? b : a;
    expect(loser.log).not.toMatch(/"message":"starting \(provider simulated\)","context":"SessionService","sessionId":"race"/);
  });

  it('SIGKILL of the owner mid-run: B takes the session over, the run shows interrupted, the catch-up completes it, no message twice', async () => {
    const [a, b] = services;
    await readyOn(a, 's2');
    const running = call(b.baseUrl, 'POST', '/whatsapp-web/session/s2/sync-chats?limitPerChat=100');
    await waitFor(async () => (await runs('s2')).some((run) => run.trigger === 'api' && run.status === 'running'), 'the run on A');
    a.kill();
    // B relayed the call to A, which died before answering.
    expect((await running).status).toBe(503);
    const killedAt = Date.now();
    await waitFor(async () => (await lease('s2'))?.owner === 'B', 'B to own s2', 15_000);
    await waitFor(async () => (await runs('s2')).filter((run) => run.trigger === 'ready').length === 2 && (await runs('s2')).at(-1)!.status === 'done', 'the catch-up on B', 20_000);
    process.stdout.write(`takeover after SIGKILL: ${Date.now() - killedAt} ms to the catch-up's end\n`);
    expect(await runs('s2')).toEqual([
      { trigger: 'ready', status: 'done' },
      { trigger: 'api', status: 'interrupted' },
      { trigger: 'ready', status: 'done' },
    ]);
    expect(await messageCounts('s2')).toEqual({ n: MESSAGES, ids: MESSAGES });
    expect(await call(b.baseUrl, 'GET', '/whatsapp-web/session/s2')).toMatchObject({ status: 200, body: { status: 'ready', owner: 'B' } });
    // s1 too: A owned it.
    await waitFor(async () => (await lease('s1'))?.owner === 'B', 'B to own s1 as well', 15_000);
  });

  it('an owner paused (SIGSTOP) past its TTL loses the session to B; resumed, it stops its client and writes nothing more for it', async () => {
    const b = services[1];
    const a = await start('A2');
    await readyOn(a, 's3');
    expect(await lease('s3')).toMatchObject({ owner: 'A2' });
    a.signal('SIGSTOP');
    try {
      await waitFor(async () => (await lease('s3'))?.owner === 'B', 'B to take s3 over', 15_000);
      await waitFor(async () => (await runs('s3')).filter((run) => run.trigger === 'ready' && run.status === 'done').length === 2, 'B\'s catch-up of s3', 20_000);
    } finally {
      a.signal('SIGCONT');
    }
    const [before] = await db.query<{ status: string; updated_at: Date }>('SELECT status, updated_at FROM sessions WHERE session_id = $1', ['s3']);
    await waitFor(() => /client stopped: the lease was lost.*"sessionId":"s3"|"sessionId":"s3".*client stopped: the lease was lost/.test(a.log), 'A2 to notice and stop its client', 15_000);
    // A2's client said `stopped` as it closed: nothing of it reached the row B writes.
    expect(await db.query('SELECT status, updated_at FROM sessions WHERE session_id = $1', ['s3'])).toEqual([before]);
    expect(before.status).toBe('ready');
    expect(await lease('s3')).toMatchObject({ owner: 'B' });
    expect(await call(a.baseUrl, 'GET', '/whatsapp-web/session/s3')).toMatchObject({ status: 200, body: { status: 'ready', owner: 'B' } });
    expect(await messageCounts('s3')).toEqual({ n: MESSAGES, ids: MESSAGES });
  });

  it('SIGTERM hands the sessions over at once: another instance owns them long before the lease would have expired', async () => {
    // Only these two run now: the takeover can only be D's.
    for (const service of services) service.kill();
    await Promise.all(services.map((service) => service.exited));
    const long = { SESSION_LEASE_TTL_MS: '60000' };
    const c = await start('C', long);
    const d = await start('D', long);
    await readyOn(c, 's4');
    expect((await c.stop('SIGTERM')).code).toBe(0);
    // Well under the 60 s TTL, and under D's 20 s scan: the hand-over's notice.
    await waitFor(async () => (await lease('s4'))?.owner === 'D', 'D to take s4 over', 10_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${c.log.split('\n').filter((l) => !l.includes('"level":"log"') || l.includes('sessionId') || l.includes('lease')).join('\n')}\n---D\n${d.log.split('\n').filter((l) => l.includes('sessionId') || l.includes('lease') || l.includes('andover') || l.includes('warn')).join('\n')}`);
    });
    await waitFor(async () => (await runs('s4')).filter((run) => run.trigger === 'ready' && run.status === 'done').length === 2, 'D\'s catch-up of s4', 20_000);
    expect(await call(d.baseUrl, 'GET', '/whatsapp-web/session/s4')).toMatchObject({ status: 200, body: { status: 'ready', owner: 'D' } });
    expect(await messageCounts('s4')).toEqual({ n: MESSAGES, ids: MESSAGES });
  });

  it('PostgreSQL gone for a second: a healthy owner keeps its lease (same generation) and its session', async () => {
    const relay = new TcpRelay({ host: '127.0.0.1', port: Number(new URL(db.url).port || 5432) });
    await relay.open();
    try {
      const url = new URL(db.url);
      url.host = `127.0.0.1:${relay.port}`;
      // TTL 3 s, renewed every second: an outage of up to 3 - 1 - 0.3 s loses nothing (README, Several instances).
      const e = await start('E', { DATABASE_URL: url.toString(), SESSION_LEASE_TTL_MS: '3000' });
      await readyOn(e, 's5');
      const held = await lease('s5');
      await relay.cut();
      const cutAt = Date.now();
      await waitFor(() => /lease renewal failed/.test(e.log), 'a renewal to fail', 10_000);
      // The outage is the scenario: it lasts a second, whenever the renewal noticed it.
      await delay(Math.max(0, cutAt + 1000 - Date.now()));
      await relay.open();
      const restoredAt = Date.now();
      process.stdout.write(`PostgreSQL cut for ${restoredAt - cutAt} ms\n`);
      // Renewed since: its expiry is past anything the lease held at the cut could reach.
      await waitFor(async () => (await db.query('SELECT 1 FROM session_leases WHERE session_id = $1 AND expires_at > $2', ['s5', new Date(restoredAt + 2000)])).length === 1, 'a renewal after the cut', 10_000);
      expect(await lease('s5')).toEqual(held);
      expect(e.log).not.toContain('lease lost');
      expect(await call(e.baseUrl, 'GET', '/whatsapp-web/session/s5')).toMatchObject({ status: 200, body: { status: 'ready', owner: 'E' } });
    } finally {
      await relay.cut().catch(() => undefined);
    }
  });
});
