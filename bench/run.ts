import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { BenchPostgres } from './bench-postgres';
import { copyLimit } from './copy-limit';
import { seedWay } from './seed-way';
import { ServerProcess } from './server-process';
import { SyncMeasurement, Watchers, measureSync, startReadySession } from './sync-driver';

/*
 * `npm run bench`: the whole sync path (server process, database, socket.io clients) against the
 * limit the machine allows, on generated simulated accounts. Prints a table, writes results.json.
 * Set BENCH_QUICK=1 for a smaller run (10x fewer messages in the scale scenario).
 */
const QUICK = process.env.BENCH_QUICK === '1';
const MB = 1024 * 1024;
const rows: Array<[string, string, string]> = [];
const results: Record<string, unknown> = {};

const perSecond = (m: SyncMeasurement) => m.messagesSynced / (m.elapsedMs / 1000);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

function report(name: string, value: string, note = ''): void {
  rows.push([name, value, note]);
  console.log(`  ${name.padEnd(44)} ${value.padStart(16)}  ${note}`);
}

/** A server on a fresh database with a ready session; `work` runs against it. */
async function withServer<T>(pg: BenchPostgres, label: string, env: Record<string, string>, work: (server: ServerProcess) => Promise<T>): Promise<T> {
  const url = await pg.freshDatabase(label);
  const server = await ServerProcess.start({ DATABASE_URL: url, ...env });
  try {
    await startReadySession(server.url, 'bench');
    await pg.checkpoint();
    return await work(server);
  } finally {
    await server.stop();
    await pg.dropDatabase(url);
  }
}

async function main(): Promise<void> {
  const pg = await BenchPostgres.start();
  const machine = `${cpus().length} cores, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}, PostgreSQL ${await pg.serverVersion()} (${pg.description})`;
  console.log(`\nWhatsApp Sync benchmark — ${machine}\n`);
  results.machine = machine;
  try {
    // 1 and 2: throughput and re-sync, 1,000 chats x 100 messages, one client checking the order.
    const account = { SIMULATED_CHATS: '1000', SIMULATED_MESSAGES_PER_CHAT: '100' };
    const [fresh, resync] = await withServer(pg, 'throughput', account, async (server) => [
      await measureSync(server.url, 'bench', 100, { clients: 1 }),
      await measureSync(server.url, 'bench', 100, { clients: 1 }),
    ]);
    await pg.checkpoint();
    const limit = await copyLimit(await pg.freshDatabase('limit'), 1000, 100);
    report('1. sync 100k messages, fresh', `${fmt(perSecond(fresh))} msg/s`, `${fresh.events} events in order, ${(fresh.elapsedMs / 1000).toFixed(2)} s`);
    report('   limit: COPY + merge, fresh', `${fmt(limit.freshPerSecond)} msg/s`, `ratio ${ratio(perSecond(fresh), limit.freshPerSecond)} (target >= 0.5x)`);
    report('2. re-sync (every row conflicts)', `${fmt(perSecond(resync))} msg/s`, `${(resync.elapsedMs / 1000).toFixed(2)} s`);
    report('   limit: COPY + merge, re-sync', `${fmt(limit.resyncPerSecond)} msg/s`, `ratio ${ratio(perSecond(resync), limit.resyncPerSecond)} (target >= 0.5x)`);
    results.throughput = { fresh, resync, limit, freshRatio: perSecond(fresh) / limit.freshPerSecond, resyncRatio: perSecond(resync) / limit.resyncPerSecond };

    // 3: the seed's way, one save() per row, on a subset.
    const seedCount = QUICK ? 1000 : 3000;
    const seed = await seedWay(await pg.freshDatabase('seed'), seedCount);
    report('3. seed\'s way: save() per row', `${fmt(seed)} msg/s`, `on ${seedCount} rows; 100k extrapolated: ${fmt(100_000 / seed)} s; ours is ${ratio(perSecond(fresh), seed)} (target >= 20x)`);
    results.seedWay = { messagesPerSecond: seed, measuredOn: seedCount, ourSpeedup: perSecond(fresh) / seed };

    // 4: latency-bound, 300 chats x 50 messages, 40 ms per fetch.
    const slow = { SIMULATED_CHATS: '300', SIMULATED_MESSAGES_PER_CHAT: '50', SIMULATED_FETCH_LATENCY_MS: '40' };
    const sequential = await withServer(pg, 'latency1', { ...slow, SYNC_FETCH_CONCURRENCY: '1' }, (s) => measureSync(s.url, 'bench', 50, { clients: 1 }));
    const concurrent = await withServer(pg, 'latency8', slow, (s) => measureSync(s.url, 'bench', 50, { clients: 1 }));
    report('4. latency-bound, fetch concurrency 1', `${(sequential.elapsedMs / 1000).toFixed(2)} s`, `${fmt(perSecond(sequential))} msg/s`);
    report('   latency-bound, default concurrency (8)', `${(concurrent.elapsedMs / 1000).toFixed(2)} s`, `${ratio(sequential.elapsedMs, concurrent.elapsedMs)} faster (target >= 5x), order checked`);
    results.latencyBound = { sequential, concurrent, speedup: sequential.elapsedMs / concurrent.elapsedMs };

    // Progress events' cost: the same run with no client in the room and with 20. The clients run in
    // a niced process of their own; in the measured arm they are lean protocol clients (the first
    // checking every event's payload and order, the others counting), so that little of the
    // clients' own CPU (which real browsers spend on their own machines) competes with the server on
    // these 2 cores; an arm of 20 socket.io-clients shows what full clients on the same cores add.
    // Each server first runs three syncs of another session (one message per chat, the same clients
    // watching), so that every arm measures a warmed-up process rather than V8 compiling the sync
    // and event paths. Seven rounds of the three arms.
    const ROUNDS = 7;
    type Arm = SyncMeasurement & { serverCpu: number };
    const arms = { alone: [] as Arm[], lean: [] as Arm[], full: [] as Arm[] };
    for (let i = 0; i < ROUNDS; i++) {
      const measure = (label: string, watchers: Watchers) =>
        withServer(pg, `${label}_${i}`, account, async (s) => {
          await startReadySession(s.url, 'warmup');
          for (let w = 0; w < 3; w++) await measureSync(s.url, 'warmup', 1, watchers);
          const cpu = s.cpuSeconds();
          const run = await measureSync(s.url, 'bench', 100, watchers);
          return { ...run, serverCpu: s.cpuSeconds() - cpu };
        });
      // The order of the arms turns from round to round, so that none always runs first or last.
      const order: Array<[keyof typeof arms, Watchers]> = [
        ['alone', { clients: 0 }],
        ['lean', { clients: 20, lean: true }],
        ['full', { clients: 20, lean: false }],
      ];
      for (let k = 0; k < order.length; k++) {
        const [arm, watchers] = order[(i + k) % order.length];
        arms[arm].push(await measure(arm, watchers));
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const ms = (arm: Arm[]) => median(arm.map((m) => m.elapsedMs));
    const cpu = (arm: Arm[]) => median(arm.map((m) => m.serverCpu));
    const clientCpu = (arm: Arm[]) => median(arm.map((m) => m.clientsCpuSeconds));
    // The arms of a round run back to back; the machine's speed drifts between rounds by more than
    // the effect measured, so each arm is compared with the no-client run of its own round.
    const ratios = (arm: Arm[]) => arm.map((m, i) => m.elapsedMs / arms.alone[i].elapsedMs - 1);
    const slower = (arm: Arm[]) => median(ratios(arm));
    const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
    const range = (arm: Arm[]) => `${pct(Math.min(...ratios(arm)))} to ${pct(Math.max(...ratios(arm)))}`;
    report('   events: no client in the room', `${(ms(arms.alone) / 1000).toFixed(2)} s`, `median of ${ROUNDS} rounds; server CPU ${cpu(arms.alone).toFixed(2)} s`);
    report('   events: 20 clients in the room', `${(ms(arms.lean) / 1000).toFixed(2)} s`, `${pct(slower(arms.lean))} (target < 10%; rounds ${range(arms.lean)}); server CPU ${cpu(arms.lean).toFixed(2)} s; clients' CPU ${clientCpu(arms.lean).toFixed(2)} s`);
    report('   events: 20 socket.io-clients, same cores', `${(ms(arms.full) / 1000).toFixed(2)} s`, `${pct(slower(arms.full))} (rounds ${range(arms.full)}); server CPU ${cpu(arms.full).toFixed(2)} s; clients' CPU ${clientCpu(arms.full).toFixed(2)} s`);
    results.eventCost = {
      arms,
      medianMs: { alone: ms(arms.alone), lean: ms(arms.lean), full: ms(arms.full) },
      medianServerCpu: { alone: cpu(arms.alone), lean: cpu(arms.lean), full: cpu(arms.full) },
      slowdownPerRound: { lean: ratios(arms.lean), full: ratios(arms.full) },
      slowdown: { lean: slower(arms.lean), full: slower(arms.full) },
    };

    // 5: scale, 10,000 chats x 100 messages, server RSS sampled.
    const scaleChats = QUICK ? 1000 : 10_000;
    const scale = await withServer(pg, 'scale', { SIMULATED_CHATS: String(scaleChats), SIMULATED_MESSAGES_PER_CHAT: '100' }, async (server) => {
      const baseline = server.rssBytes();
      server.startSampling();
      const run = await measureSync(server.url, 'bench', 100, { clients: 1 });
      return { run, baselineRss: baseline, peakRss: server.stopSampling() };
    });
    const growth = scale.peakRss - scale.baselineRss;
    report(`5. scale: ${fmt(scale.run.messagesSynced)} messages`, `${fmt(perSecond(scale.run))} msg/s`, `${(scale.run.elapsedMs / 1000).toFixed(1)} s, ${ratio(perSecond(scale.run), perSecond(fresh))} of the 100k figure (target >= 0.70x)`);
    report('   server RSS: baseline -> peak', `${fmt(scale.baselineRss / MB)} -> ${fmt(scale.peakRss / MB)} MB`, `growth ${fmt(growth / MB)} MB (target < 300 MB)`);
    results.scale = { ...scale, rssGrowthBytes: growth, ratioTo100k: perSecond(scale.run) / perSecond(fresh) };
  } finally {
    await pg.stop();
  }
  results.table = rows;
  results.at = new Date().toISOString();
  writeFileSync(join(__dirname, 'results.json'), JSON.stringify(results, null, 2));
  console.log('\nWritten to bench/results.json\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
