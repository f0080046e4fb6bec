import type { Client } from 'whatsapp-web.js';

/**
 * whatsapp-web.js 1.34.7 re-injects its code after every navigation of the page (a logout from the
 * phone reloads it) from a `framenavigated` handler that nothing awaits. When the browser is closed
 * meanwhile, that promise rejects unhandled, which by default ends the Node process and every
 * session in it. This wraps `inject` on one client instance: after `initialize()` has finished, a
 * failed re-injection is reported to `onError` instead. The library itself is not modified.
 */
export function guardReinjection(client: Client, onError: (error: unknown) => void): { initialized(): void } {
  const target = client as unknown as { inject?: () => Promise<void> };
  const inject = target.inject;
  if (typeof inject !== 'function') return { initialized: () => undefined };
  let initialized = false;
  target.inject = function guardedInject(this: Client): Promise<void> {
    const run = inject.call(this);
    return initialized ? run.catch(onError) : run;
  };
  return { initialized: () => (initialized = true) };
}
