import type { Client } from 'whatsapp-web.js';

/**
 * whatsapp-web.js 1.34.7 re-injects its code after every navigation of the page (a logout from the
 * phone reloads it) from a `framenavigated` handler that nothing awaits. When the browser is closed
 * meanwhile, that promise rejects unhandled, which by default ends the Node process and every
 * session in it. This wraps `inject` on one client instance: after `initialize()` has finished, a
 * failed re-injection is reported to `onError` instead. The library itself is not modified.
 */
export interface ReinjectionGuard {
  /** Call once `initialize()` has resolved. */
  initialized(): void;
  /** Resolves when the library next starts a re-injection: its logout handling is done by then. */
  nextInjection(): Promise<void>;
}

export function guardReinjection(client: Client, onError: (error: unknown) => void): ReinjectionGuard {
  const target = client as unknown as { inject?: () => Promise<void> };
  const inject = target.inject;
  let initialized = false;
  let waiters: Array<() => void> = [];
  if (typeof inject === 'function') {
    target.inject = function guardedInject(this: Client): Promise<void> {
      const run = inject.call(this);
      for (const resolve of waiters) resolve();
      waiters = [];
      return initialized ? run.catch(onError) : run;
    };
  }
  return {
    initialized: () => (initialized = true),
    nextInjection: () => new Promise((resolve) => waiters.push(resolve)),
  };
}
