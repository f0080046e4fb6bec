export interface BackgroundRetry {
  /** Attempts after the first one. */
  retries: number;
  /** The delay doubles from 1 s up to this. */
  maxDelayMs: number;
  /** Checked before each retry: once true, no more attempts (the process is stopping). */
  stopped: () => boolean;
  /** The first attempt failed; retries follow. */
  onRetrying: (error: unknown) => void;
  /** The last attempt failed, or the process stopped first. */
  onGaveUp: (error: unknown) => void;
}

/**
 * Makes a first attempt at `write` and returns when it has succeeded or failed; if it failed, it is
 * retried in the background (1, 2, 4 s, then every `maxDelayMs`) until it succeeds or gives up. For
 * writes that must land eventually but must not hold their caller, as a run's outcome when the
 * database is down.
 */
export async function retryInBackground(write: () => Promise<void>, policy: BackgroundRetry): Promise<void> {
  const attempt = (n: number): Promise<void> =>
    write().catch((error: unknown) => {
      if (n >= policy.retries || policy.stopped()) return policy.onGaveUp(error);
      if (n === 0) policy.onRetrying(error);
      setTimeout(() => void attempt(n + 1), Math.min(1000 * 2 ** n, policy.maxDelayMs)).unref();
    });
  await attempt(0);
}
