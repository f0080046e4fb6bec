import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'whatsapp-web.js';
import { CancellableRemoteAuth } from './cancellable-remote-auth';

// Real timers, taken before any test fakes them: the library's zipping is real file I/O.
const realSetTimeout = setTimeout;
const sleep = (ms: number) => new Promise((resolve) => realSetTimeout(resolve, ms));
/**
 * Lets real I/O run until `condition` holds. The zipping libraries also wait on (faked) timers of a
 * few ms, so the fake clock is moved on by 1 ms a step: far less than any backup interval here.
 */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let steps = 0; !condition(); steps++) {
    if (steps > 2_000) throw new Error(`timed out waiting for ${what}`);
    await jest.advanceTimersByTimeAsync(1);
    await sleep(5);
  }
}
async function settled(promise: Promise<unknown>, what: string): Promise<void> {
  let done = false;
  void promise.finally(() => (done = true)).catch(() => undefined);
  await until(() => done, what);
  await promise;
}

const BACKUP_INTERVAL_MS = 5 * 60_000;

describe('CancellableRemoteAuth', () => {
  let dataPath: string;

  beforeEach(() => {
    dataPath = mkdtempSync(join(tmpdir(), 'wa-remote-auth-'));
    // Only the library's setTimeout/setInterval are faked; file I/O and its callbacks run for real.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'queueMicrotask'] });
  });
  afterEach(() => {
    jest.useRealTimers();
    rmSync(dataPath, { recursive: true, force: true });
  });

  /** A strategy for a client that has just become ready, with a profile on disk and nothing stored yet. */
  async function readyStrategy(save: (options: { session: string }) => Promise<void> = async () => undefined) {
    const store = { sessionExists: jest.fn(async () => false), save: jest.fn(save), extract: jest.fn(), delete: jest.fn(async () => undefined) };
    const strategy = new CancellableRemoteAuth({ store, clientId: 'spec', dataPath, backupSyncIntervalMs: BACKUP_INTERVAL_MS });
    strategy.setup({ options: { puppeteer: {} }, emit: jest.fn() } as unknown as Client);
    await strategy.beforeBrowserInitialized(); // creates the empty profile folder
    mkdirSync(join(dataPath, 'RemoteAuth-spec', 'Default', 'Local Storage'), { recursive: true });
    writeFileSync(join(dataPath, 'RemoteAuth-spec', 'Default', 'Local Storage', 'data'), 'paired');
    return { store, strategy };
  }

  it('backs up 60 s after ready, then every interval, until destroyed', async () => {
    const { store, strategy } = await readyStrategy();
    const ready = strategy.afterAuthReady(); // the library does not await it
    await jest.advanceTimersByTimeAsync(59_999);
    expect(store.save).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    await settled(ready, 'the first backup');
    expect(store.save).toHaveBeenCalledWith({ session: 'RemoteAuth-spec' });

    await jest.advanceTimersByTimeAsync(BACKUP_INTERVAL_MS);
    await until(() => store.save.mock.calls.length === 2, 'the periodic backup');
    await settled(strategy.destroy(), 'destroy');
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(3 * BACKUP_INTERVAL_MS);
    expect(store.save).toHaveBeenCalledTimes(2);
  });

  it.each(['destroy', 'logout'] as const)('stores nothing once %s() came during the first 60 s, and leaves no periodic backup', async (end) => {
    const { store, strategy } = await readyStrategy();
    const ready = strategy.afterAuthReady();
    await jest.advanceTimersByTimeAsync(30_000);
    await settled(strategy[end](), end);
    await jest.advanceTimersByTimeAsync(30_000);
    await settled(ready, "the library's backup attempt"); // its wait has run out
    expect(store.save).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(3 * BACKUP_INTERVAL_MS);
    expect(store.save).not.toHaveBeenCalled();
  });

  it('a destroy waits for a save in flight, so no backup lands after it', async () => {
    let finishSave: () => void = () => undefined;
    const { store, strategy } = await readyStrategy(() => new Promise<void>((resolve) => (finishSave = resolve)));
    void strategy.afterAuthReady();
    await jest.advanceTimersByTimeAsync(60_000);
    await until(() => store.save.mock.calls.length === 1, 'the first save to start');

    let destroyed = false;
    const destroying = strategy.destroy().then(() => (destroyed = true));
    await sleep(50);
    expect(destroyed).toBe(false);
    finishSave();
    await settled(destroying, 'destroy');
    expect(jest.getTimerCount()).toBe(0);
  });
});
