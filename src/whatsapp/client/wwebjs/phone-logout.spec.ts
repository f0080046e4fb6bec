import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, LocalAuth } from 'whatsapp-web.js';
import { watchPhoneLogout } from './phone-logout';

describe('watchPhoneLogout', () => {
  let dataPath: string;
  beforeEach(() => (dataPath = mkdtempSync(join(tmpdir(), 'wa-phone-logout-'))));
  afterEach(() => rmSync(dataPath, { recursive: true, force: true }));

  function strategy() {
    const auth = new LocalAuth({ clientId: 'spec', dataPath });
    auth.setup({ options: { puppeteer: {} } } as unknown as Client);
    return auth;
  }

  it('leaves the first authentication to the strategy', async () => {
    const auth = strategy();
    watchPhoneLogout(auth);
    expect(await auth.onAuthenticationNeeded()).toEqual({ failed: false, restart: false, failureEventPayload: undefined });
  });

  it("after a logout, refuses the reloaded page's authentication and settles once the library destroyed the strategy", async () => {
    const auth = strategy();
    const watch = watchPhoneLogout(auth);
    let settled = false;
    void watch.settled().then(() => (settled = true));

    // The library's sequence after a logout from the phone (Client.js, its `framenavigated` handler).
    await auth.beforeBrowserInitialized();
    await auth.logout();
    await auth.beforeBrowserInitialized();
    await auth.afterBrowserInitialized();
    expect(await auth.onAuthenticationNeeded()).toEqual({ failed: true, restart: false, failureEventPayload: 'logged out from the phone' });
    await Promise.resolve();
    expect(settled).toBe(false);
    await auth.destroy(); // the library's own destroy() after a failed authentication
    await watch.settled();
    expect(settled).toBe(true);
  });

  it('does not settle on a destroy without a logout', async () => {
    const auth = strategy();
    const watch = watchPhoneLogout(auth);
    let settled = false;
    void watch.settled().then(() => (settled = true));
    await auth.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
  });
});
