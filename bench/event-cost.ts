import { BenchPostgres } from './bench-postgres';
import { ServerProcess } from './server-process';
import { SyncMeasurement, Watchers, measureSync, startReadySession } from './sync-driver';
import { WatcherProcess } from './watcher-process';

export type ArmName = 'alone' | 'lean' | 'full';
export type ArmRun = SyncMeasurement & { round: number };

/** Who watches in each arm: nobody; 20 lean protocol clients (the measured arm); 20 socket.io-clients. */
const ARMS: Record<ArmName, Watchers> = {
  alone: { clients: 0 },
  lean: { clients: 20, lean: true },
  full: { clients: 20, lean: false },
};

export interface EventCost {
  runs: Record<ArmName, ArmRun[]>;
  /** Per round: the arm's mean time over the no-client arm's mean time of the same round, minus 1. */
  slowdownPerRound: Record<'lean' | 'full', number[]>;
  /** Median of `slowdownPerRound`: the figure compared with the target. */
  slowdown: Record<'lean' | 'full', number>;
  /** Mean of `slowdownPerRound` with its 95% confidence interval (Student's t over the rounds). */
  meanSlowdown: Record<'lean' | 'full', { mean: number; low: number; high: number }>;
  medianMs: Record<ArmName, number>;
  medianServerCpu: Record<ArmName, number>;
  medianClientsCpu: Record<ArmName, number>;
}

/**
 * What progress events cost a sync: the same 100k-message sync with no client in the room, with 20
 * lean clients, and with 20 socket.io-clients.
 *
 * This machine's speed is the hard part: a fixed CPU-only loop varies by about 8% from one run to
 * the next, more than the effect measured. So the arms are compared as close together in time as
 * possible: each round is one server on a fresh database, which syncs one fresh session per run in
 * the order A B C C B A (the first arm turning from round to round), so that a drift within the round
 * weighs on every arm alike; before each run the database is vacuumed and checkpointed, so that no run
 * inherits its predecessor's background work; each arm's mean is compared with the no-client mean of its own round,
 * and the figure is the median over rounds. Every server first syncs a small session once per arm,
 * so that V8 has compiled both the sync and the event paths before anything is measured; the
 * round's watcher process is started before that too, and stays (idle in the no-client arm).
 */
export async function measureEventCost(
  pg: BenchPostgres,
  rounds: number,
  withServer: <T>(label: string, work: (server: ServerProcess, databaseUrl: string) => Promise<T>) => Promise<T>,
): Promise<EventCost> {
  const runs: Record<ArmName, ArmRun[]> = { alone: [], lean: [], full: [] };
  const names = Object.keys(ARMS) as ArmName[];
  for (let round = 0; round < rounds; round++) {
    const turned = names.map((_, k) => names[(round + k) % names.length]);
    const sequence = [...turned, ...[...turned].reverse()];
    await withServer(`events_${round}`, async (server, databaseUrl) => {
      // One watcher process for the round, present (idle or watching) during every arm.
      const via = WatcherProcess.start();
      try {
        // The session withServer made ready is the warm-up's.
        for (const arm of names) await measureSync(server, 'bench', 1, { ...ARMS[arm], via });
        for (let k = 0; k < sequence.length; k++) {
          const arm = sequence[k];
          const sessionId = `run_${k}`;
          await startReadySession(server.url, sessionId);
          await pg.settle(databaseUrl);
          const run = await measureSync(server, sessionId, 100, { ...ARMS[arm], via });
          runs[arm].push({ ...run, round });
        }
      } finally {
        via.stop();
      }
    });
  }
  const perRound = (arm: ArmName): number[] =>
    Array.from({ length: rounds }, (_, round) => mean(runs[arm].filter((r) => r.round === round).map((r) => r.elapsedMs)));
  const alone = perRound('alone');
  const slowdownPerRound = {
    lean: perRound('lean').map((ms, round) => ms / alone[round] - 1),
    full: perRound('full').map((ms, round) => ms / alone[round] - 1),
  };
  const byArm = (pick: (r: ArmRun) => number) =>
    Object.fromEntries(names.map((arm) => [arm, median(runs[arm].map(pick))])) as Record<ArmName, number>;
  return {
    runs,
    slowdownPerRound,
    slowdown: { lean: median(slowdownPerRound.lean), full: median(slowdownPerRound.full) },
    meanSlowdown: { lean: meanWithInterval(slowdownPerRound.lean), full: meanWithInterval(slowdownPerRound.full) },
    medianMs: byArm((r) => r.elapsedMs),
    medianServerCpu: byArm((r) => r.serverCpuSeconds),
    medianClientsCpu: byArm((r) => r.clientsCpuSeconds),
  };
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** Student's t, two-sided 95%, for 1 to 30 degrees of freedom; beyond, 2.0 (exact: 2.04 at 30, 1.96 at infinity). */
const T95 = [
  12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09, 2.08, 2.07, 2.07,
  2.06, 2.06, 2.06, 2.05, 2.05, 2.05, 2.04,
];

function meanWithInterval(values: number[]): { mean: number; low: number; high: number } {
  const m = mean(values);
  if (values.length < 2) return { mean: m, low: m, high: m };
  const sd = Math.sqrt(values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1));
  const df = values.length - 1;
  const half = (T95[df - 1] ?? 2.0) * (sd / Math.sqrt(values.length));
  return { mean: m, low: m - half, high: m + half };
}

/** The middle value; for an even count, the mean of the two middle ones. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
