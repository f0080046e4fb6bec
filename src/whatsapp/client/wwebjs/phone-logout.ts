import type { AuthStrategy } from 'whatsapp-web.js';

/**
 * What the service needs to know about a logout from the phone, taken from the client's auth
 * strategy (its hooks are the library's declared `AuthStrategy` API; the strategy is ours to build).
 *
 * whatsapp-web.js 1.34.7 handles such a logout on its own, from a page `framenavigated` handler that
 * nothing awaits: it emits `disconnected('LOGOUT')`, calls the strategy's `logout()` (deletes the
 * profile), `beforeBrowserInitialized()` and `afterBrowserInitialized()` (re-creates it), then
 * injects into the reloaded page, which asks for a new authentication. Closing the browser during
 * that injection would make it reject with nobody to catch it. So after a `logout()`, the next
 * `onAuthenticationNeeded()` answers that authentication failed, without a restart: the library then
 * emits `auth_failure`, closes its own browser (`destroy()`) and its injection ends without error.
 */
export interface PhoneLogoutWatch {
  /** Resolves once, after a `logout()`, the strategy has been destroyed: the library's own handling is over. */
  settled(): Promise<void>;
}

export function watchPhoneLogout(strategy: AuthStrategy): PhoneLogoutWatch {
  const logout = strategy.logout.bind(strategy);
  const onAuthenticationNeeded = strategy.onAuthenticationNeeded.bind(strategy);
  const destroy = strategy.destroy.bind(strategy);
  let loggedOut = false;
  let done: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => (done = resolve));

  strategy.logout = async () => {
    loggedOut = true;
    await logout();
  };
  strategy.onAuthenticationNeeded = async () =>
    loggedOut ? { failed: true, restart: false, failureEventPayload: 'logged out from the phone' } : onAuthenticationNeeded();
  strategy.destroy = async () => {
    try {
      await destroy();
    } finally {
      if (loggedOut) done();
    }
  };
  return { settled: () => settled };
}
