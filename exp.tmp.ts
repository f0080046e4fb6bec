import { Client } from 'pg';
import { readFileSync } from 'node:fs';
import { BenchPostgres } from './bench/bench-postgres';
import { generateAccount } from './src/whatsapp/client/simulated/generated-account';
import { toMessageRow } from './src/whatsapp/storage/message.repository';
import { pgSafeJson } from './src/whatsapp/storage/pg-safe';
import { UPSERT_MESSAGES_SQL } from './src/whatsapp/storage/upsert-sql';

function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // ms
}
async function main() {
  const pg = await BenchPostgres.start();
  const variant = process.argv[2] ?? 'plain';
  const conc = Number(process.argv[3] ?? 1);
  const url = await pg.freshDatabase('exp');
  const acct = generateAccount({ chats: 1000, messagesPerChat: 100 });
  const batches = acct.chats.map((c) => ({ id: c.chat.id, json: pgSafeJson(c.newestMessages(100).map(toMessageRow)) }));
  const clients = await Promise.all(Array.from({ length: conc }, async () => { const c = new Client({ connectionString: url }); await c.connect(); return c; }));
  const pids = await Promise.all(clients.map(async (c) => (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p as number));
  const setup = new Client({ connectionString: url }); await setup.connect();
  await setup.query(`INSERT INTO chats (session_id, wa_id, name, is_group, unread_count, timestamp, archived, pinned, raw) SELECT 's', x, 'n', false, 0, 0, false, false, '{}' FROM unnest($1::text[]) x`, [batches.map(b=>b.id)]);
  for (const round of ['fresh', 'resync']) {
    const cpu0 = pids.map(cpuOf); const node0 = process.cpuUsage();
    const t0 = Date.now();
    let next = 0;
    await Promise.all(clients.map(async (c) => {
      while (next < batches.length) {
        const b = batches[next++];
        if (variant === 'named') await c.query({ name: 'upsert', text: UPSERT_MESSAGES_SQL, values: ['s', b.id, b.json, false] });
        else await c.query(UPSERT_MESSAGES_SQL, ['s', b.id, b.json, false]);
      }
    }));
    const ms = Date.now() - t0; const cpu = pids.map(cpuOf).reduce((a, v, i) => a + v - cpu0[i], 0); const nu = process.cpuUsage(node0);
    console.log(variant, conc, round, `${ms} ms`, `${Math.round(100000 / ms * 1000)} msg/s`, `pg cpu ${cpu} ms`, `node cpu ${Math.round((nu.user + nu.system) / 1000)} ms (sys ${Math.round(nu.system/1000)})`);
  }
  for (const c of clients) await c.end(); await setup.end();
  await pg.dropDatabase(url);
  process.exit(0);
}
void main();
