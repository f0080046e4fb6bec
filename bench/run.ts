import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { BenchPostgres } from './bench-postgres';
import { measureCatchUp } from './catch-up';
import { measureMedia } from './media';
import { copyLimit } from './copy-limit';
import { ArmName, measureEventCost } from './event-cost';
import { Placement, measureRedisFanOut, measureTakeover } from './instances';
import { seedWay } from './seed-way';
import { ServerProcess } from './server-process';
import { SyncMeasurement, measureSync, startReadySession } from './sync-driver';
import { measureLiveIngest, measureLiveLatency } from './webhook-live';
import { measureRecovery } from './webhook-recovery';
import { measureWebhookSyncCost } from './webhook-sync-cost';

/*
 * `npm run bench`: the whole sync path (server process, database, socket.io clients) against the
 * limit the machine allows, on generated simulated accounts. Prints a table, writes results.json.
 * Set BENCH_QUICK=1 for a smaller run (10x fewer messages in the scale scenario, the seed's way on
 * 1,000 rows instead of 3,000), BENCH_ONLY to a comma-separated list of scenarios (throughput, seed,
 * latency, events, scale, catchup, webhooks, instances, media) to run only those, BENCH_EVENT_ROUNDS for the event scenario's rounds (9),
 * BENCH_WEBHOOK_ROUNDS for the webhook sync comparison's rounds of four runs, A B B A then B A A B (2),
 * BENCH_INSTANCE_ROUNDS for the instances scenario's rounds of four runs with watchers on another instance (3).
 * The instances scenario needs the machine's Redis at 127.0.0.1:6379.
 */
const QUICK = process.env.BENCH_QUICK === '1';
const SCENARIOS = ['throughput', 'seed', 'latency', 'events', 'scale', 'catchup', 'webhooks', 'instances', 'media'] as const;
type Scenario = (typeof SCENARIOS)[number];
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
for (const name of ONLY) if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`BENCH_ONLY: unknown scenario ${name}; known: ${SCENARIOS.join(', ')}`);
const runs = (scenario: Scenario): boolean => ONLY.length === 0 || ONLY.includes(scenario);
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
async function withServer<T>(
  pg: BenchPostgres,
  label: string,
  env: Record<string, string>,
  work: (server: ServerProcess, databaseUrl: string) => Promise<T>,
): Promise<T> {
  const url = await pg.freshDatabase(label);
  const server = await ServerProcess.start({ DATABASE_URL: url, ...env });
  try {
    await startReadySession(server.url, 'bench');
    await pg.checkpoint();
    return await work(server, url);
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
  const account = { SIMULATED_CHATS: '1000', SIMULATED_MESSAGES_PER_CHAT: '100' };
  try {
    // The 100k figure that the seed's way and the scale scenario compare with, when measured.
    let freshRate: number | undefined;
    if (runs('throughput')) {
      // 1 and 2: throughput and re-sync, 1,000 chats x 100 messages, one client checking the order.
      const [fresh, resync] = await withServer(pg, 'throughput', account, async (server) => [
        await measureSync(server, 'bench', 100, { clients: 1 }),
        await measureSync(server, 'bench', 100, { clients: 1 }),
      ]);
      const limit = await copyLimit(await pg.freshDatabase('limit'), 1000, 100);
      report('1. sync 100k messages, fresh', `${fmt(perSecond(fresh))} msg/s`, `${fresh.events} events in order, ${(fresh.elapsedMs / 1000).toFixed(2)} s`);
      report('   limit: COPY + merge, fresh', `${fmt(limit.freshPerSecond)} msg/s`, `ratio ${ratio(perSecond(fresh), limit.freshPerSecond)} (target >= 0.5x)`);
      report('2. re-sync (every row conflicts)', `${fmt(perSecond(resync))} msg/s`, `${(resync.elapsedMs / 1000).toFixed(2)} s`);
      report('   limit: COPY + merge, re-sync', `${fmt(limit.resyncPerSecond)} msg/s`, `ratio ${ratio(perSecond(resync), limit.resyncPerSecond)} (target >= 0.5x)`);
      freshRate = perSecond(fresh);
      results.throughput = { fresh, resync, limit, freshRatio: perSecond(fresh) / limit.freshPerSecond, resyncRatio: perSecond(resync) / limit.resyncPerSecond };
    }

    if (runs('seed')) {
      // 3: the seed's way, one save() per row, on a subset.
      const seedCount = QUICK ? 1000 : 3000;
      const seed = await seedWay(await pg.freshDatabase('seed'), seedCount);
      report('3. seed\'s way: save() per row', `${fmt(seed)} msg/s`, `on ${seedCount} rows; 100k extrapolated: ${fmt(100_000 / seed)} s; ours is ${freshRate ? ratio(freshRate, seed) : 'n/a (throughput not run)'} (target >= 20x)`);
      results.seedWay = { messagesPerSecond: seed, measuredOn: seedCount, ourSpeedup: freshRate && freshRate / seed };
    }

    if (runs('latency')) {
      // 4: latency-bound, 300 chats x 50 messages, 40 ms per fetch.
      const slow = { SIMULATED_CHATS: '300', SIMULATED_MESSAGES_PER_CHAT: '50', SIMULATED_FETCH_LATENCY_MS: '40' };
      const sequential = await withServer(pg, 'latency1', { ...slow, SYNC_FETCH_CONCURRENCY: '1' }, (s) => measureSync(s, 'bench', 50, { clients: 1 }));
      const concurrent = await withServer(pg, 'latency8', slow, (s) => measureSync(s, 'bench', 50, { clients: 1 }));
      report('4. latency-bound, fetch concurrency 1', `${(sequential.elapsedMs / 1000).toFixed(2)} s`, `${fmt(perSecond(sequential))} msg/s`);
      report('   latency-bound, default concurrency (8)', `${(concurrent.elapsedMs / 1000).toFixed(2)} s`, `${ratio(sequential.elapsedMs, concurrent.elapsedMs)} faster (target >= 5x), order checked`);
      results.latencyBound = { sequential, concurrent, speedup: sequential.elapsedMs / concurrent.elapsedMs };
    }

    if (runs('events')) {
      // Progress events' cost: the same sync with no client in the room, with 20 lean clients (the
      // measured arm) and with 20 socket.io-clients (shown). The clients run in a niced process of their
      // own; lean ones speak the wire protocol themselves (the first checking every event's payload and
      // order, the others counting), so that little of the clients' own CPU (which real browsers spend
      // on their own machines) competes with the server on these 2 cores. See event-cost.ts for how the
      // arms are paired against this machine's drifting speed.
      const rounds = Number(process.env.BENCH_EVENT_ROUNDS ?? 9);
      if (!Number.isInteger(rounds) || rounds < 2) throw new Error(`BENCH_EVENT_ROUNDS must be an integer of at least 2, not ${process.env.BENCH_EVENT_ROUNDS}`);
      const cost = await measureEventCost(pg, rounds, (label, work) => withServer(pg, label, account, work));
      const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
      const range = (values: number[]) => `${pct(Math.min(...values))} to ${pct(Math.max(...values))}`;
      const cpu = (arm: ArmName) => `server CPU ${cost.medianServerCpu[arm].toFixed(2)} s`;
      const clientsCpu = (arm: ArmName) => `clients' CPU ${cost.medianClientsCpu[arm].toFixed(2)} s`;
      report('   events: no client in the room', `${(cost.medianMs.alone / 1000).toFixed(2)} s`, `median of ${cost.runs.alone.length} runs in ${rounds} rounds; ${cpu('alone')}`);
      const interval = ({ mean, low, high }: { mean: number; low: number; high: number }) => `mean ${pct(mean)}, 95% CI ${pct(low)} to ${pct(high)}`;
      report('   events: 20 clients in the room', `${(cost.medianMs.lean / 1000).toFixed(2)} s`, `${pct(cost.slowdown.lean)} (target < 10%; rounds ${range(cost.slowdownPerRound.lean)}; ${interval(cost.meanSlowdown.lean)}); ${cpu('lean')}; ${clientsCpu('lean')}`);
      report('   events: 20 socket.io-clients, same cores', `${(cost.medianMs.full / 1000).toFixed(2)} s`, `${pct(cost.slowdown.full)} (rounds ${range(cost.slowdownPerRound.full)}); ${cpu('full')}; ${clientsCpu('full')}`);
      results.eventCost = cost;
    }

    if (runs('scale')) {
      // 5: scale, 10,000 chats x 100 messages, server RSS sampled.
      const scaleChats = QUICK ? 1000 : 10_000;
      const scale = await withServer(pg, 'scale', { SIMULATED_CHATS: String(scaleChats), SIMULATED_MESSAGES_PER_CHAT: '100' }, async (server) => {
        const baseline = server.rssBytes();
        server.startSampling();
        const run = await measureSync(server, 'bench', 100, { clients: 1 });
        return { run, baselineRss: baseline, peakRss: server.stopSampling() };
      });
      const growth = scale.peakRss - scale.baselineRss;
      report(`5. scale: ${fmt(scale.run.messagesSynced)} messages`, `${fmt(perSecond(scale.run))} msg/s`, `${(scale.run.elapsedMs / 1000).toFixed(1)} s, ${freshRate ? ratio(perSecond(scale.run), freshRate) : 'n/a'} of the 100k figure (target >= 0.70x)`);
      report('   server RSS: baseline -> peak', `${fmt(scale.baselineRss / MB)} -> ${fmt(scale.peakRss / MB)} MB`, `growth ${fmt(growth / MB)} MB (target < 300 MB)`);
      results.scale = { ...scale, rssGrowthBytes: growth, ratioTo100k: freshRate && perSecond(scale.run) / freshRate };
    }

    if (runs('catchup')) {
      // 6: catch-up, 1,000 chats x 20 messages stored; while the service is down 2% of the chats get
      // 5 new messages; 40 ms a fetch. The automatic incremental run at the restart against a full
      // re-sync of the same state; the rows after it are checked against a fresh full sync.
      const c = await measureCatchUp(pg);
      if (!c.identical) throw new Error('catch-up: the stored rows differ from those of a full sync with limitPerChat=10000');
      report(`6. catch-up: ${c.changedChats} of ${fmt(c.chats)} chats changed`, `${fmt(c.catchUpMs)} ms`, `${c.catchUpFetchCalls} calls into WhatsApp, ${c.catchUpInserted} new messages; rows identical to a full sync with limitPerChat=10000`);
      report('   incremental, nothing changed', `${fmt(c.unchangedMs)} ms`, `${c.unchangedFetchCalls} call into WhatsApp (the chat list)`);
      report('   full re-sync of the same state', `${fmt(c.fullMs)} ms`, `${c.fullFetchCalls} calls; the catch-up is ${ratio(c.fullMs, c.catchUpMs)} faster (target >= 20x)`);
      results.catchUp = { ...c, speedup: c.fullMs / c.catchUpMs };
    }

    if (runs('webhooks')) {
      // 7: webhook delivery to a receiver in this process. A full sync with WEBHOOK_URL set against
      // one without (a full run writes one sync_chats_done, no message events); live traffic's
      // commit-to-receiver latency; a receiver down for 10 s under traffic, then up.
      const rounds = Number(process.env.BENCH_WEBHOOK_ROUNDS ?? 2);
      if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_WEBHOOK_ROUNDS must be a positive integer, not ${process.env.BENCH_WEBHOOK_ROUNDS}`);
      const cost = await measureWebhookSyncCost(pg, rounds, (label, env, work) => withServer(pg, label, { ...account, ...env }, work));
      const done = cost.runs.filter((r) => r.webhook).map((r) => r.deliveries.sync_chats_done);
      const roundsText = cost.ratioPerRound.map((r) => r.toFixed(2)).join(', ');
      report('7. webhooks: sync 100k, WEBHOOK_URL set', `${fmt(cost.medianWith)} msg/s`, `${ratio(cost.medianWith, cost.medianWithout)} of without (target >= 0.9x; rounds ${roundsText}); server CPU ${cost.medianServerCpu.with.toFixed(2)} s; sync_chats_done received per run: ${done.join(', ')}`);
      report('   webhooks: sync 100k, no webhook', `${fmt(cost.medianWithout)} msg/s`, `median of ${cost.runs.length / 2} runs, the arms alternating A B B A${rounds > 1 ? ', B A A B' : ''}${rounds > 2 ? ' ...' : ''}, each a server on a fresh database; server CPU ${cost.medianServerCpu.without.toFixed(2)} s`);

      // Live: 10,000 messages at 500/s (afterMs = 1000 + 2i), and the same rate with no webhook for reference.
      const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'not delivered');
      const ingest = await measureLiveIngest(pg, { count: 2500, everyMs: 2, leadMs: 1000 }, 10_000);
      const live = await measureLiveLatency(pg, { count: 10_000, everyMs: 2, leadMs: 1000 }, 15_000);
      report('   webhooks: live 500/s, commit -> receiver', `p99 ${ms(live.p99Ms)}`, `p50 ${ms(live.p50Ms)}, max ${ms(live.maxMs)} (target p99 < 250 ms); over the ${fmt(live.written)} written, stored at ${fmt(live.writtenPerSecond)}/s; server CPU ${live.serverCpuSeconds.toFixed(1)} s`);
      const lost = `lost ${fmt(live.lost)} (target 0): ${fmt(live.lostNotWritten)} not stored, ${fmt(live.lostPending)} pending, ${live.lostFailed} failed, ${live.graceMs / 1000} s after the traffic`;
      report('   webhooks: live, delivered of 10,000', fmt(live.delivered), `${lost}; duplicates ${live.duplicates}; order ${live.orderKept ? 'kept' : `broken (${live.inversions} inversions)`}; seq ${live.seqFollowsPlay ? 'follows' : 'does not follow'} play order`);
      report('   live 500/s stored, no webhook (reference)', `${fmt(ingest.writtenPerSecond)} msg/s`, `${fmt(ingest.stored)} of 2,500 stored: one session's live messages, one transaction each`);

      // A receiver down for 10 s under 200 msg/s, back-off from 50 ms doubling, 100 attempts allowed.
      const down = await measureRecovery(pg, { count: 2000, everyMs: 5, leadMs: 1000 }, 10_000, 50, 30_000);
      const drainedText = down.toDrainedMs === null ? `not drained in ${down.graceMs / 1000} s` : `${fmt(down.toDrainedMs)} ms`;
      report('   webhooks: 500 for 10 s, recovery -> drained', drainedText, `${fmt(down.deliveries)} deliveries (${fmt(down.messages)} messages), ${down.pending} pending, ${down.failed} failed; order ${down.orderKept ? 'kept' : `broken (${down.inversions} inversions)`}`);
      const toHead = down.toHeadMs === null ? 'not delivered' : `${fmt(down.toHeadMs)} ms`;
      const backoff = down.headLastBackoffMs === null ? '' : `, the last ${fmt(down.headLastBackoffMs)} ms`;
      report('   recovery -> head delivered', toHead, `the head's back-off: ${down.headAttempts} attempts from base ${down.retryBaseMs} ms${backoff}; ${down.refused} answers of 500`);
      report('   head delivered -> last delivered', `${fmt(down.drainedAfterHead)} more`, `${fmt(down.drainPerSecond)} deliveries/s, one queue`);
      results.webhooks = { syncCost: cost, live, ingest, recovery: down };
    }

    if (runs('instances')) {
      // 8: two instances on one PostgreSQL and one Redis. A 100k-message sync on A with 20 lean
      // watchers connected to B (every event through the Redis adapter) against none; then the time
      // from a SIGKILL of a session's owner to another instance running it.
      const rounds = Number(process.env.BENCH_INSTANCE_ROUNDS ?? 3);
      if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_INSTANCE_ROUNDS must be a positive integer, not ${process.env.BENCH_INSTANCE_ROUNDS}`);
      const fan = await measureRedisFanOut(pg, rounds, account);
      const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
      const cpu = (arm: 'alone' | 'remote') => `CPU: A ${fan.medianCpu[arm].a.toFixed(2)} s, B ${fan.medianCpu[arm].b.toFixed(2)} s`;
      const per = fan.runs.filter((r) => r.arm === 'alone').length;
      report('8. instances: sync 100k on A, no watcher', `${(fan.medianMs.alone / 1000).toFixed(2)} s`, `median of ${per} runs in ${rounds} round${rounds > 1 ? 's' : ''} (A B B A${rounds > 1 ? ', then B A A B' : ''}), a fresh session each; A publishes every event to Redis either way; ${cpu('alone')}`);
      report('   instances: 20 lean watchers on B', `${(fan.medianMs.remote / 1000).toFixed(2)} s`, `${pct(fan.slowdown)} (target < 15%; rounds ${fan.slowdownPerRound.map(pct).join(', ')}); every watcher got all ${fan.eventsPerWatcher[0]} events in order; ${cpu('remote')}; watchers' CPU ${fan.medianCpu.remote.clients.toFixed(2)} s`);
      const takeover = await measureTakeover(pg);
      const ms = (x: number) => `${fmt(x)} ms`;
      const times = (p: Placement) => takeover.byPlacement[p];
      const spread = (p: Placement) => `median of ${times(p).ms.length}, min ${ms(times(p).min)}, max ${ms(times(p).max)}`;
      report('   takeover after SIGKILL, same host', `${ms(times('same host').median)}`, `${spread('same host')}; SESSION_LEASE_TTL_MS=${takeover.ttlMs}: B sees the dead pid on its host and takes over at its next scan (every ${fmt(takeover.scanEveryMs)} ms), not after the TTL; kill -> B answers ready, owner B`);
      report('   takeover after SIGKILL, other host', `${ms(times('other host').median)}`, `${spread('other host')}; the lease made to name another host: B waits for its expiry (a TTL after A's last renewal, renewals every TTL/3), then its next scan (claimed ${times('other host').claimAfterExpiryMs.map(fmt).join(', ')} ms after the expiry); ${times('other host').unavailable} polls answered 503 meanwhile (forwarded to the dead A)`);
      results.instances = { redisFanOut: fan, takeover };
    }

    if (runs('media')) {
      // 9: media, through the simulated provider: each store's download-and-store throughput (files
      // of 100 KB to 2 MB, MEDIA_DOWNLOAD_CONCURRENCY=2) with the server's RSS, then the text sync
      // with MEDIA_DOWNLOAD=all against off.
      const media = await measureMedia(pg, QUICK);
      for (const run of media.stores) {
        const bound = (run.concurrency * run.largestFile * 2.3) / MB;
        report(`9. media: ${fmt(run.files)} files, ${run.store}`, `${run.filesPerSecond.toFixed(1)} files/s`, `${run.megabytesPerSecond.toFixed(1)} MB/s (${fmt(run.bytes / MB)} MB in ${(run.elapsedMs / 1000).toFixed(1)} s); RSS ${fmt(run.baselineRss / MB)} -> ${fmt(run.peakRss / MB)} MB, growth ${fmt((run.peakRss - run.baselineRss) / MB)} MB (concurrency x largest file x 2.3: ${fmt(bound)} MB)`);
      }
      const rates = (list: typeof media.sync.all) => list.map((r) => fmt(r.messagesSynced / (r.elapsedMs / 1000))).join(', ');
      report('   media: sync, MEDIA_DOWNLOAD=all', `${fmt(media.sync.medianAll)} msg/s`, `${ratio(media.sync.medianAll, media.sync.medianOff)} of off (target >= 0.9x); runs ${rates(media.sync.all)}; ${media.sync.mediaMessages} media messages, stored by the sync's end: ${media.sync.mediaStoredDuringSync.join(', ')}`);
      report('   media: sync, MEDIA_DOWNLOAD=off', `${fmt(media.sync.medianOff)} msg/s`, `runs ${rates(media.sync.off)}; A B B A${QUICK ? '' : ', B A A B'}, each a server on a fresh database`);
      results.media = media;
    }
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
