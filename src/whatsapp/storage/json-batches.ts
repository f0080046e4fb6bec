import { pgSafeJson, pgSafeText } from './pg-safe';

/**
 * JSON characters per upsert statement. `jsonb_to_recordset` refuses an array whose elements total
 * more than 256 MB; 32 M characters are at most 96 MB of UTF-8, and far more than a batch of
 * ordinary messages (about 1 MB for 2,000), so only huge bodies make a batch end early.
 */
export const BATCH_MAX_JSON_CHARS = 32 * 1024 * 1024;

/**
 * Rows as JSON array texts for upsert statements, each at most `maxRows` rows and
 * BATCH_MAX_JSON_CHARS characters (a single larger row still goes alone). Rows are sorted by id as
 * stored, so that every writer locks rows in the same order and concurrent writes cannot deadlock.
 */
export function jsonBatches<T extends { id: string }>(items: readonly T[], toRow: (item: T) => object, maxRows: number): string[] {
  // Each id made storable once, not once per comparison.
  const sorted = items.map((item) => ({ key: pgSafeText(item.id), item })).sort((a, b) => compare(a.key, b.key));
  const batches: string[] = [];
  let parts: string[] = [];
  let chars = 0;
  for (const { item } of sorted) {
    const json = pgSafeJson(toRow(item));
    if (parts.length > 0 && (parts.length === maxRows || chars + json.length > BATCH_MAX_JSON_CHARS)) {
      batches.push(`[${parts.join(',')}]`);
      parts = [];
      chars = 0;
    }
    parts.push(json);
    chars += json.length + 1;
  }
  if (parts.length > 0) batches.push(`[${parts.join(',')}]`);
  return batches;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
