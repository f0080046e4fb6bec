import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { adminQuery } from '../test/setup/test-postgres';
import { BenchPostgres } from './bench-postgres';
import { ServerProcess } from './server-process';
import { SyncMeasurement, Watchers, measureSync, startReadySession } from './sync-driver';
import { WatcherProcess } from './watcher-process';
import { median } from './webhook-sync-cost';

/*
 * Several instances on one PostgreSQL and one Redis (issue 15): what events cost when the watchers
 * are on another instance than the sync, and how long a session is without an owner after its
 * owner is SIGKILLed.
 */

const REDIS_URL = 'redis://127.0.0.1:6379';
const A = 'bench-a';
const B = 'bench-b';

// ---------------------------------------------------------------------------------------------
// a. Events through the Redis adapter

export type RemoteArm = 'alone' | 'remote';
export type RemoteRun = SyncMeasurement & { round: number; arm: RemoteArm; bCpuSeconds: number };

/** No watcher at all, or 20 lean watchers connected to B while A syncs. */
const ARMS: Record<RemoteArm, Omit<Watchers, 'via' | 'watchUrl'>> = {
  alone: { clients: 0 },
  remote: { clients: 20, lean: true },
};

export interface RedisFanOut {
  runs: RemoteRun[];
  /** Per round: the mean time with watchers on B over the mean time without, minus 1. */
  slowdownPerRound: number[];
  /** Median of `slowdownPerRound`: the figure compared with the target (< 15%). */
  slowdown: number;
  medianMs: Record<RemoteArm, number>;
  /** CPU of A (the sync, publishing every event to Redis in both arms) and of B (decoding them, sending them to its sockets). */
  medianCpu: Record<RemoteArm, { a: number; b: number; clients: number }>;
  /** `sync_chats` events every watcher on B got, each run (all of the run's, in order: measureSync checks). */
  eventsPerWatcher: number[];
}

/**
 * A 100k-message sync on A with nobody watching against the same with 20 lean watchers on B, both
 * instances on the Redis adapter: in both arms A publishes every event to Redis and B receives it;
 * with watchers, B also sends each to 20 sockets. Each round is a fresh database with A and B, the
 * arms alternating A B B A (B A A B the next round) on a fresh session per run, the database settled
 * before each; both arms run once on a small sync first, so that both processes have compiled the
 * paths measured. The watcher process (niced, see watcher-process.ts) is there in both arms.
 */
export async function measureRedisFanOut(pg: BenchPostgres, rounds: number, account: Record<string, string>): Promise<RedisFanOut> {
  const runs: RemoteRun[] = [];
  for (let round = 0; round < rounds; round++) {
    const first: RemoteArm = round % 2 === 0 ? 'alone' : 'remote';
    const second: RemoteArm = first === 'alone' ? 'remote' : 'alone';
    // A prefix of its own: no other run or test on this Redis shares the channels.
    const env = { ...account, REDIS_URL, REDIS_PREFIX: `wa-bench-${process.pid}-${Date.now()}` };
    await withTwo(pg, `instances_${round}`, env, async (a, b, databaseUrl) => {
      const via = WatcherProcess.start();
      try {
        const measure = async (sessionId: string, limitPerChat: number, arm: RemoteArm): Promise<RemoteRun> => {
          // B's CPU over the whole call, the 20 joins included (a few ms beside the run's).
          const bBefore = b.cpuSeconds();
          const run = await measureSync(a, sessionId, limitPerChat, { ...ARMS[arm], via, watchUrl: b.url });
          return { ...run, round, arm, bCpuSeconds: b.cpuSeconds() - bBefore };
        };
        await startReadySession(a.url, 'bench');
        for (const arm of [first, second]) await measure('bench', 1, arm);
        const sequence = [first, second, second, first];
        for (let k = 0; k < sequence.length; k++) {
          const sessionId = `run_${k}`;
          await startReadySession(a.url, sessionId);
          await pg.settle(databaseUrl);
          runs.push(await measure(sessionId, 100, sequence[k]));
        }
      } finally {
        via.stop();
      }
    });
  }
  const of = (arm: RemoteArm, round?: number) => runs.filter((r) => r.arm === arm && (round === undefined || r.round === round));
  const mean = (values: number[]) => values.reduce((x, y) => x + y, 0) / values.length;
  const slowdownPerRound = Array.from({ length: rounds }, (_, round) => mean(of('remote', round).map((r) => r.elapsedMs)) / mean(of('alone', round).map((r) => r.elapsedMs)) - 1);
  const cpu = (arm: RemoteArm) => ({
    a: median(of(arm).map((r) => r.serverCpuSeconds)),
    b: median(of(arm).map((r) => r.bCpuSeconds)),
    clients: median(of(arm).map((r) => r.clientsCpuSeconds)),
  });
  return {
    runs,
    slowdownPerRound,
    slowdown: median(slowdownPerRound),
    medianMs: { alone: median(of('alone').map((r) => r.elapsedMs)), remote: median(of('remote').map((r) => r.elapsedMs)) },
    medianCpu: { alone: cpu('alone'), remote: cpu('remote') },
    eventsPerWatcher: of('remote').map((r) => r.events),
  };
}

// ---------------------------------------------------------------------------------------------
// b. Takeover after SIGKILL of the owner

/** Short enough for five rounds to take seconds, long enough that a heartbeat (every TTL/3) is never late on a busy machine. */
export const TAKEOVER_TTL_MS = 5000;
const TAKEOVER_ROUNDS = 5;
const POLL_MS = 20;

/**
 * Where B finds the dead owner. `same host`: B sees that A's pid is gone and may take the lease at
 * once, so it does at its next scan (every TTL/3). `other host`: the lease names another machine (its
 * `host` column rewritten after A claimed it; A's renewals do not write it), where a pid tells B
 * nothing, so B waits for the lease to expire (a TTL after A's last renewal), then its next scan.
 */
export type Placement = 'same host' | 'other host';

export interface TakeoverTimes {
  /** From the SIGKILL to B answering `{status: 'ready', owner: B}`, each round. */
  ms: number[];
  median: number;
  min: number;
  max: number;
  /** Polls that B answered 503 (other host: forwarded to the dead A until its lease expired). */
  unavailable: number;
  /**
   * Other host: from the expiry of A's lease to B's claim, by the database's clock, each round: the
   * wait for B's next scan, which the takeover adds to the lease's remaining time.
   */
  claimAfterExpiryMs: number[];
}

export interface Takeover {
  ttlMs: number;
  scanEveryMs: number;
  rounds: number;
  byPlacement: Record<Placement, TakeoverTimes>;
}

/**
 * B runs throughout; each round a fresh A (the same INSTANCE_ID, as a restarted instance would
 * have) starts a fresh session, gets it ready and is SIGKILLed; the clock runs from the kill until
 * B's `GET /session/:id` shows the session ready with B as its owner. The two placements alternate
 * within each round (the first turning from round to round). Logins come from PostgreSQL
 * (WA_AUTH_STORE=postgres), no automatic catch-up (SYNC_ON_READY=off): the time is the takeover's and
 * the client's start, not a sync's. No Redis: the takeover does not use it.
 */
export async function measureTakeover(pg: BenchPostgres): Promise<Takeover> {
  const env = { WA_AUTH_STORE: 'postgres', SESSION_LEASE_TTL_MS: String(TAKEOVER_TTL_MS), SYNC_ON_READY: 'off' };
  const placements: Placement[] = ['same host', 'other host'];
  const times: Record<Placement, Omit<TakeoverTimes, 'median' | 'min' | 'max'>> = {
    'same host': { ms: [], unavailable: 0, claimAfterExpiryMs: [] },
    'other host': { ms: [], unavailable: 0, claimAfterExpiryMs: [] },
  };
  // B forwards each poll about a session A's live-looking lease names to A, and logs each failure:
  // expected here, dropped from the output (counted in `unavailable`).
  const quiet = /forward to bench-a at .* failed/;
  await withB(pg, 'takeover', env, { quiet }, async (b, databaseUrl) => {
    for (let round = 0; round < TAKEOVER_ROUNDS; round++) {
      const order = round % 2 === 0 ? placements : [...placements].reverse();
      for (const placement of order) {
        const sessionId = `takeover_${round}_${placement === 'same host' ? 'same' : 'other'}`;
        const a = await ServerProcess.start({ DATABASE_URL: databaseUrl, INSTANCE_ID: A, ...env });
        try {
          await startReadySession(a.url, sessionId);
          const seen = await view(b.url, sessionId);
          if (seen.body.owner !== A) throw new Error(`takeover: B sees ${sessionId} owned by ${String(seen.body.owner)}, expected ${A}`);
          if (placement === 'other host') await looksForeign(databaseUrl, sessionId);
          const killed = performance.now();
          await a.kill();
          // Other host: nobody may claim before the expiry, so the row is still A's last renewal.
          const expiresAt = placement === 'other host' ? (await leaseOf(databaseUrl, sessionId)).expires_at : undefined;
          const { ms, unavailable } = await untilTakenOver(b.url, sessionId, killed, 4 * TAKEOVER_TTL_MS + 30_000);
          times[placement].ms.push(ms);
          times[placement].unavailable += unavailable;
          if (expiresAt) times[placement].claimAfterExpiryMs.push((await leaseOf(databaseUrl, sessionId)).claimed_at.getTime() - expiresAt.getTime());
        } finally {
          await a.kill();
        }
      }
    }
  });
  const summary = (t: Omit<TakeoverTimes, 'median' | 'min' | 'max'>): TakeoverTimes => ({ ...t, median: median(t.ms), min: Math.min(...t.ms), max: Math.max(...t.ms) });
  return {
    ttlMs: TAKEOVER_TTL_MS,
    scanEveryMs: Math.max(500, Math.floor(TAKEOVER_TTL_MS / 3)),
    rounds: TAKEOVER_ROUNDS,
    byPlacement: { 'same host': summary(times['same host']), 'other host': summary(times['other host']) },
  };
}

/** Makes the lease A just claimed name another machine, as A's would on a host of its own. */
async function looksForeign(databaseUrl: string, sessionId: string): Promise<void> {
  const { rowCount } = await adminQuery(databaseUrl, `UPDATE session_leases SET host = 'bench-elsewhere' WHERE session_id = $1 AND owner = $2`, [sessionId, A]);
  if (rowCount !== 1) throw new Error(`takeover: no lease of ${A} for ${sessionId} to move`);
}

async function leaseOf(databaseUrl: string, sessionId: string): Promise<{ owner: string; expires_at: Date; claimed_at: Date }> {
  const { rows } = await adminQuery(databaseUrl, 'SELECT owner, expires_at, claimed_at FROM session_leases WHERE session_id = $1', [sessionId]);
  if (rows.length !== 1) throw new Error(`takeover: no lease for ${sessionId}`);
  return rows[0] as { owner: string; expires_at: Date; claimed_at: Date };
}

/** Polls B every POLL_MS from `since` until it answers the session ready and its own. */
async function untilTakenOver(url: string, sessionId: string, since: number, timeoutMs: number): Promise<{ ms: number; unavailable: number }> {
  let unavailable = 0;
  let last = '';
  while (performance.now() - since < timeoutMs) {
    const polled = performance.now();
    const { status, body } = await view(url, sessionId).catch((error: Error) => ({ status: 0, body: { error: error.message } as Record<string, unknown> }));
    if (status === 200 && body.status === 'ready' && body.owner === B) return { ms: performance.now() - since, unavailable };
    if (status === 503) unavailable++;
    last = `${status} ${JSON.stringify(body)}`;
    await delay(Math.max(0, POLL_MS - (performance.now() - polled)));
  }
  throw new Error(`takeover: ${sessionId} not taken over by ${B} within ${timeoutMs / 1000} s; B's last answer: ${last}`);
}

async function view(url: string, sessionId: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/whatsapp-web/session/${sessionId}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

// ---------------------------------------------------------------------------------------------

/** Instance B on a fresh database, dropped afterwards. */
async function withB<T>(
  pg: BenchPostgres,
  label: string,
  env: Record<string, string>,
  bOptions: { quiet?: RegExp },
  work: (b: ServerProcess, databaseUrl: string) => Promise<T>,
): Promise<T> {
  const databaseUrl = await pg.freshDatabase(label);
  try {
    const b = await ServerProcess.start({ DATABASE_URL: databaseUrl, INSTANCE_ID: B, ...env }, bOptions);
    try {
      return await work(b, databaseUrl);
    } finally {
      await b.stop();
    }
  } finally {
    await pg.dropDatabase(databaseUrl);
  }
}

/**
 * A and B on one fresh database. B starts first and A once B is up, as in the tests: no instance
 * starts while the other is getting a session ready.
 */
function withTwo<T>(pg: BenchPostgres, label: string, env: Record<string, string>, work: (a: ServerProcess, b: ServerProcess, databaseUrl: string) => Promise<T>): Promise<T> {
  return withB(pg, label, env, {}, async (b, databaseUrl) => {
    const a = await ServerProcess.start({ DATABASE_URL: databaseUrl, INSTANCE_ID: A, ...env });
    try {
      await pg.checkpoint();
      return await work(a, b, databaseUrl);
    } finally {
      await a.stop();
    }
  });
}
