import { RemoteAuth, Store } from 'whatsapp-web.js';

type RemoteAuthOptions = ConstructorParameters<typeof RemoteAuth>[0] & { store: Store };

/**
 * RemoteAuth whose first backup can be called off. whatsapp-web.js waits a fixed 60 s after `ready`
 * before zipping the profile, with a timer that `destroy()` does not cancel: a client stopped in that
 * minute would still zip and upload its profile afterwards, and the timer keeps the process alive.
 * Here `destroy()` and `logout()` cancel the wait, and the pending backup is skipped.
 */
export class CancellableRemoteAuth extends RemoteAuth {
  constructor(options: RemoteAuthOptions) {
    super(options);
    const self = this as unknown as {
      delay(ms: number): Promise<void>;
      destroy(): Promise<void>;
      logout(): Promise<void>;
    };
    const timers = new Set<NodeJS.Timeout>();
    // A cancelled wait never resolves, so the library's backup after it never runs.
    self.delay = (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, ms);
        timers.add(timer);
      });
    const cancel = () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    };
    const destroy = self.destroy.bind(this);
    const logout = self.logout.bind(this);
    self.destroy = async () => {
      cancel();
      await destroy();
    };
    self.logout = async () => {
      cancel();
      await logout();
    };
  }
}
