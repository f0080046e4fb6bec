import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time comparison; hashing first makes the lengths equal without leaking them. */
export function apiKeyMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
