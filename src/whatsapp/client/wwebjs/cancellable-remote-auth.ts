import { RemoteAuth, Store } from 'whatsapp-web.js';

type RemoteAuthOptions = ConstructorParameters<typeof RemoteAuth>[0] & { store: Store };

/**
 * RemoteAuth whose backups end with `destroy()` and `logout()`. whatsapp-web.js waits a fixed 60 s
 * after `ready` before its first backup, with a timer that `destroy()` does not cancel, and starts
 * its periodic backups after that wait even when `destroy()` came during it: a client stopped in
 * that minute would still upload its profile afterwards, and then every few minutes for ever.
 *
 * Only the declared `AuthStrategy` hooks and the `Store` interface are used: the library is given a
 * store of this strategy's own that, once `destroy()` or `logout()` has begun, waits for a save in
 * flight and then saves nothing more; and `afterAuthReady()`, when it ends after a `destroy()`,
 * stops the periodic backups it has just started. What no public API reaches is the library's 60 s
 * timer itself: it still runs out (the event loop stays alive until then), and the profile it then
 * zips is deleted again without being stored.
 */
export class CancellableRemoteAuth extends RemoteAuth {
  constructor(options: RemoteAuthOptions) {
    const store = new ClosableStore(options.store);
    super({ ...options, store });
    const afterAuthReady = this.afterAuthReady.bind(this);
    const destroy = this.destroy.bind(this);
    const logout = this.logout.bind(this);
    this.afterAuthReady = async () => {
      await afterAuthReady();
      if (store.closed) await destroy(); // clears the backup interval started after the destroy
    };
    this.destroy = async () => {
      await store.close();
      await destroy();
    };
    this.logout = async () => {
      await store.close();
      await logout();
    };
  }
}

/** A `Store` that, once closed, lets a save in flight finish and then saves nothing more. */
class ClosableStore implements Store {
  closed = false;
  private readonly saving = new Set<Promise<unknown>>();

  constructor(private readonly store: Store) {}

  sessionExists(options: { session: string }): Promise<boolean> | boolean {
    return this.store.sessionExists(options);
  }

  extract(options: { session: string; path: string }): unknown {
    return this.store.extract(options);
  }

  delete(options: { session: string }): unknown {
    return this.store.delete(options);
  }

  /** A refused save resolves: the library calls it from timers that nothing awaits. */
  async save(options: { session: string }): Promise<void> {
    if (this.closed) return;
    const saving = Promise.resolve(this.store.save(options));
    this.saving.add(saving);
    try {
      await saving;
    } finally {
      this.saving.delete(saving);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.saving]);
  }
}
