import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { AppConfig, loadConfig } from '../config/app-config';
import { typeOrmOptions } from '../database/typeorm-options';
import { errorText } from '../common/error-text';
import { createMediaStore } from './stores/media-store.provider';

/** Rows read per query: the copy holds one file in memory at a time, whatever the number of files. */
const PAGE = 200;

export interface CopyReport {
  copied: number;
  missing: string[];
}

/**
 * Copies every stored media object (one per SHA-256 that a `stored` row refers to) from the store
 * `from` (`postgres` or `fs:<folder>`, as MEDIA_STORE writes them) into the configured MEDIA_STORE,
 * checking each object's SHA-256 on the way. The rows name objects by SHA-256 only, so once the copy
 * is done the service serves the same media from the new store: nothing in the database changes.
 */
export async function copyMedia(config: AppConfig, from: string, log: (line: string) => void = () => undefined): Promise<CopyReport> {
  if (!config.databaseUrl) throw new Error('DATABASE_URL must be set (the database of the service)');
  const source = loadConfig({ MEDIA_STORE: from }).media.store;
  const dataSource = await new DataSource({ ...typeOrmOptions(config.databaseUrl, 2), migrationsRun: false }).initialize();
  try {
    const reader = createMediaStore({ ...config, media: { ...config.media, store: source } }, dataSource);
    const writer = createMediaStore(config, dataSource);
    const report: CopyReport = { copied: 0, missing: [] };
    let after = '';
    for (;;) {
      const rows = (await dataSource.query(
        `SELECT sha256, min(mimetype) AS mimetype FROM message_media WHERE status = 'stored' AND sha256 > $1 GROUP BY sha256 ORDER BY sha256 LIMIT ${PAGE}`,
        [after],
      )) as Array<{ sha256: string; mimetype: string | null }>;
      if (rows.length === 0) return report;
      for (const { sha256, mimetype } of rows) {
        let bytes: Buffer;
        try {
          bytes = await collect(await reader.read(sha256));
        } catch (error) {
          report.missing.push(sha256);
          log(`${sha256}: not copied (${errorText(error)})`);
          continue;
        }
        if (createHash('sha256').update(bytes).digest('hex') !== sha256) throw new Error(`${sha256}: the ${reader.kind} store holds other bytes under this name; nothing more copied`);
        await writer.put(sha256, bytes, mimetype ?? 'application/octet-stream');
        report.copied++;
      }
      after = rows[rows.length - 1].sha256;
      log(`${report.copied} copied so far`);
    }
  } finally {
    await dataSource.destroy();
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `npm run media:copy -- --from postgres` (or `--from fs:<folder>`), with the service's environment. */
if (require.main === module) {
  const index = process.argv.indexOf('--from');
  const from = index > 0 ? process.argv[index + 1] : undefined;
  if (!from) {
    console.error('usage: npm run media:copy -- --from postgres|fs:<folder>   (the target is MEDIA_STORE, with the service\'s environment)');
    process.exit(2);
  }
  copyMedia(loadConfig(), from, (line) => console.log(line)).then(
    ({ copied, missing }) => {
      console.log(`done: ${copied} object(s) copied${missing.length ? `, ${missing.length} missing from the source` : ''}`);
      process.exit(missing.length ? 1 : 0);
    },
    (error: unknown) => {
      console.error(errorText(error));
      process.exit(1);
    },
  );
}
