import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, Socket } from 'socket.io-client';
import { seedAccount } from './support/accounts';
import { ServiceProcess } from './support/service-process';
import { TcpRelay } from './support/tcp-relay';
import { TestDatabase } from './support/test-database';
import { waitFor } from './support/wait';

/**
 * Several service processes on one PostgreSQL and one Redis (the machine's, at 127.0.0.1:6379):
 * Socket.IO events of a session reach its room's sockets on every instance, in order; a join on an
 * instance that does not run the session is replayed by the one that does; Redis down shows in
 * /health and at start-up.
 */

const REDIS = { host: '127.0.0.1', port: 6379 };

type Event = { event: string; payload: Record<string, unknown> };

async function joined(baseUrl: string, sessionId: string): Promise<{ socket: Socket; events: Event[] }> {
  const socket = io(baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true });
  const events: Event[] = [];
  socket.onAny((event: string, payload: Record<string, unknown>) => events.push({ event, payload }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  const ack = await new Promise((resolve) => socket.emit('join-session', { sessionId }, resolve));
  expect(ack).toEqual({ ok: true });
  return { socket, events };
}

const call = (base: string, method: string, path: string) =>
  fetch(`${base}${path}`, { method }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

describe('two instances on one PostgreSQL and one Redis', () => {
  const prefix = `wa-test-${process.pid}-${Date.now()}`;
  const dir = mkdtempSync(join(tmpdir(), 'wa-instances-'));
  const accountFile = join(dir, 'account.json');
  const relay = new TcpRelay(REDIS);
  const sockets: Socket[] = [];
  let db: TestDatabase;
  let a: ServiceProcess & { baseUrl: string };
  let b: ServiceProcess & { baseUrl: string };

  beforeAll(async () => {
    db = await TestDatabase.create();
    // 60 ms a fetch: a run lasts long enough for a socket to join in the middle of it.
    writeFileSync(accountFile, JSON.stringify({ ...seedAccount(), fetchLatencyMs: 60 }));
    await relay.open();
    const env = { DATABASE_URL: db.url, WA_PROVIDER: 'simulated', SIMULATED_ACCOUNT: accountFile, DB_POOL_SIZE: '3', REDIS_PREFIX: prefix };
    // B first: an instance's start marks the sessions left live as stopped (leases are not built yet),
    // so B must not start after A runs its session. B reaches Redis through the relay.
    b = await ServiceProcess.start({ ...env, REDIS_URL: `redis://127.0.0.1:${relay.port}` });
    a = await ServiceProcess.start({ ...env, REDIS_URL: `redis://${REDIS.host}:${REDIS.port}` });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    a?.kill();
    b?.kill();
    await relay.cut().catch(() => undefined);
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const track = <T extends { socket: Socket }>(x: T): T => {
    sockets.push(x.socket);
    return x;
  };

  it('a socket on B is replayed the session A runs, then gets the events of A\'s run in the order A\'s own socket does', async () => {
    expect((await call(a.baseUrl, 'POST', '/whatsapp-web/session/s1/start')).status).toBe(201);
    await waitFor(async () => (await call(a.baseUrl, 'GET', '/whatsapp-web/session/s1')).body.status === 'ready', 's1 ready on A');
    const onA = track(await joined(a.baseUrl, 's1'));
    const onB = track(await joined(b.baseUrl, 's1'));
    await waitFor(() => onB.events.length >= 1, 'the replay on B');
    // B has no client for s1: the status comes from A, which runs it.
    expect(onB.events).toEqual([{ event: 'session_status', payload: { sessionId: 's1', status: 'ready' } }]);

    const answer = await call(a.baseUrl, 'POST', '/whatsapp-web/session/s1/sync-chats');
    expect(answer.status).toBe(200);
    await waitFor(() => onB.events.some((e) => e.event === 'sync_chats_done'), 'sync_chats_done on B');
    const run = (events: Event[]) => events.filter((e) => e.event.startsWith('sync_chats'));
    expect(run(onB.events)).toEqual(run(onA.events));
    expect(run(onB.events).map((e) => [e.event, e.payload.currentChat ?? null])).toEqual([
      ['sync_chats', 0],
      ['sync_chats', 1],
      ['sync_chats', 1],
      ['sync_chats', 2],
      ['sync_chats', 2],
      ['sync_chats', 3],
      ['sync_chats', 3],
      ['sync_chats_done', null],
    ]);
    expect(run(onB.events)[7].payload).toMatchObject({ syncId: answer.body.syncId, messagesSynced: 125 });
  });

  it('a join on B in the middle of A\'s run: the latest sync_chats from A, then the rest of the run, in order', async () => {
    const onA = track(await joined(a.baseUrl, 's1'));
    const running = call(a.baseUrl, 'POST', '/whatsapp-web/session/s1/sync-chats');
    await waitFor(() => onA.events.some((e) => e.event === 'sync_chats' && e.payload.currentChat === 1), 'the run at its first chat');
    const onB = track(await joined(b.baseUrl, 's1'));
    expect((await running).status).toBe(200);
    await waitFor(() => onB.events.some((e) => e.event === 'sync_chats_done'), 'sync_chats_done on B');
    expect(onB.events[0]).toEqual({ event: 'session_status', payload: { sessionId: 's1', status: 'ready' } });
    // After the status: a sync_chats A sent, then everything A sent after it.
    const fromA = onA.events.filter((e) => e.event.startsWith('sync_chats'));
    const rest = onB.events.slice(1);
    const at = fromA.findIndex((e) => JSON.stringify(e) === JSON.stringify(rest[0]));
    expect(at).toBeGreaterThanOrEqual(1);
    // The replayed one may also arrive as the room event it was (a join and an event crossing).
    const tail = JSON.stringify(rest[1]) === JSON.stringify(rest[0]) ? rest.slice(1) : rest;
    expect(tail).toEqual(fromA.slice(at));
  });

  it('/health says Redis is up; once B loses Redis, B\'s /health is 503 with redis "down", and both recover with it', async () => {
    expect(await call(b.baseUrl, 'GET', '/health')).toEqual({ status: 200, body: { status: 'ok', database: 'up', redis: 'up', uptimeSeconds: expect.any(Number) } });
    await relay.cut();
    await waitFor(async () => (await call(b.baseUrl, 'GET', '/health')).status === 503, 'B unhealthy');
    expect((await call(b.baseUrl, 'GET', '/health')).body).toEqual({ status: 'error', database: 'up', redis: 'down', uptimeSeconds: expect.any(Number) });
    expect((await call(a.baseUrl, 'GET', '/health')).status).toBe(200);
    await relay.open();
    await waitFor(async () => (await call(b.baseUrl, 'GET', '/health')).status === 200, 'B healthy again', 15_000);
    // B subscribes again: A's events reach B's sockets once more.
    const onB = track(await joined(b.baseUrl, 's1'));
    await waitFor(() => onB.events.length >= 1, 'the replay on B');
    expect((await call(a.baseUrl, 'POST', '/whatsapp-web/session/s1/sync-chats')).status).toBe(200);
    await waitFor(() => onB.events.some((e) => e.event === 'sync_chats_done'), 'sync_chats_done on B after Redis came back');
    expect(b.log).toContain('Redis at 127.0.0.1');
  });

  it('REDIS_URL set but Redis not answering: the start stops, exit 1, naming REDIS_URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const failing = ServiceProcess.launch({ DATABASE_URL: db.url, WA_PROVIDER: 'simulated', SIMULATED_ACCOUNT: accountFile, REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(await failing.exited).toEqual({ code: 1, signal: null });
    expect(failing.log).toContain(`REDIS_URL: Redis at 127.0.0.1:${port} does not answer`);
  });
});
