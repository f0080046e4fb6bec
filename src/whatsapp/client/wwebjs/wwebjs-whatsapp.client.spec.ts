import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, ClientOptions, Store } from 'whatsapp-web.js';
import { loadConfig } from '../../../config/app-config';
import { WhatsappClientListener } from '../whatsapp-client.port';
import { SessionStatus } from '../whatsapp.types';
import { WwebjsWhatsappClient } from './wwebjs-whatsapp.client';

const realSetImmediate = setImmediate;
const realSetTimeout = setTimeout;

/** A stand-in for the library's Client: an event emitter whose calls the test scripts. */
class FakeLibraryClient extends EventEmitter {
  constructor(readonly options: ClientOptions = {}) {
    super();
  }
  destroyed = 0;
  initialize = jest.fn(async () => undefined);
  destroy = jest.fn(async () => {
    this.destroyed++;
  });
  logout = jest.fn(async () => undefined);
  getChats = jest.fn(async () => [] as unknown[]);
  getChatById = jest.fn();
  info = undefined;
  pupBrowser = undefined;
}

function setup(env: Record<string, string> = {}, store?: Store) {
  const config = loadConfig({ CHROME_PATH: '/bin/sh', WWEBJS_DATA_DIR: '/tmp/wa-spec-never-created', WWEBJS_MAX_RESTARTS: '2', WWEBJS_RESTART_DELAY_MS: '1000', WWEBJS_CALL_TIMEOUT_MS: '500', ...env }).wwebjs;
  const statuses: Array<[SessionStatus, string | undefined]> = [];
  const listener: WhatsappClientListener = {
    onStatus: (status, detail) => statuses.push([status, detail]),
    onQr: jest.fn(),
    onMessage: jest.fn(),
    onMessageAck: jest.fn(),
    onMessageEdit: jest.fn(),
    onMessageRevoke: jest.fn(),
    onMessageReaction: jest.fn(),
  };
  const built: FakeLibraryClient[] = [];
  const options: ClientOptions[] = [];
  const build = (clientOptions: ClientOptions) => {
    const fake = new FakeLibraryClient(clientOptions);
    built.push(fake);
    options.push(clientOptions);
    return fake as unknown as Client;
  };
  const client = new WwebjsWhatsappClient('spec', config, listener, store, build);
  return { client, statuses, built, listener, options };
}

describe('WwebjsWhatsappClient', () => {
  afterEach(() => jest.useRealTimers());

  it('maps qr, authenticated and ready to statuses and passes the QR on', async () => {
    const { client, statuses, built, listener } = setup();
    await client.start();
    built[0].emit('qr', 'QR-1');
    built[0].emit('authenticated');
    built[0].emit('ready');
    expect(listener.onQr).toHaveBeenCalledWith('QR-1');
    expect(statuses.map(([s]) => s)).toEqual(['starting', 'qr', 'authenticated', 'ready']);
  });

  it('becomes ready only once the offline delivery it saw in progress reached 100%', async () => {
    const { client, statuses, built } = setup();
    await client.start();
    built[0].emit('authenticated');
    built[0].emit('loading_screen', 40, 'WhatsApp');
    built[0].emit('ready');
    expect(statuses.map(([s]) => s)).toEqual(['starting', 'authenticated']);
    built[0].emit('loading_screen', 100, 'WhatsApp');
    expect(statuses.map(([s]) => s)).toEqual(['starting', 'authenticated', 'ready']);
  });

  it('becomes ready anyway when the offline delivery never reports 100% within the start timeout', async () => {
    jest.useFakeTimers();
    const { client, statuses, built } = setup({ WWEBJS_START_TIMEOUT_MS: '5000' });
    await client.start();
    built[0].emit('loading_screen', 99, 'WhatsApp');
    built[0].emit('ready');
    jest.advanceTimersByTime(4999);
    expect(statuses.map(([s]) => s)).toEqual(['starting']);
    jest.advanceTimersByTime(1);
    expect(statuses.map(([s]) => s)).toEqual(['starting', 'ready']);
  });

  it('restarts after an unexpected disconnect with exponential back-off, then gives up', async () => {
    jest.useFakeTimers();
    const { client, statuses, built } = setup();
    await client.start();
    built[0].emit('ready');

    built[0].emit('disconnected', 'CONFLICT');
    await jest.advanceTimersByTimeAsync(0);
    expect(built[0].destroyed).toBe(1);
    expect(statuses.at(-1)).toEqual(['disconnected', 'CONFLICT; restart 1/2 in 1000 ms']);
    await jest.advanceTimersByTimeAsync(999);
    expect(built).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(built).toHaveLength(2);

    built[1].emit('disconnected', 'UNPAIRED');
    await jest.advanceTimersByTimeAsync(0);
    expect(statuses.at(-1)).toEqual(['disconnected', 'UNPAIRED; restart 2/2 in 2000 ms']);
    await jest.advanceTimersByTimeAsync(2000);
    expect(built).toHaveLength(3);

    built[2].emit('disconnected', 'UNPAIRED');
    await jest.advanceTimersByTimeAsync(0);
    expect(statuses.at(-1)).toEqual(['failed', 'Disconnected (UNPAIRED); gave up after 2 restart(s)']);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(built).toHaveLength(3);
    expect(built.every((fake) => fake.destroyed === 1)).toBe(true);
  });

  it('resets the restart count once ready again', async () => {
    jest.useFakeTimers();
    const { client, statuses, built } = setup();
    await client.start();
    built[0].emit('disconnected', 'CONFLICT');
    await jest.advanceTimersByTimeAsync(1000);
    built[1].emit('ready');
    built[1].emit('disconnected', 'CONFLICT');
    await jest.advanceTimersByTimeAsync(0);
    expect(statuses.at(-1)).toEqual(['disconnected', 'CONFLICT; restart 1/2 in 1000 ms']);
  });

  it('a logout before ready forgets the login where RemoteAuth keeps it (WA_AUTH_STORE=postgres), and nothing else', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wa-forget-'));
    try {
      mkdirSync(join(dataDir, 'RemoteAuth-spec', 'Default'), { recursive: true });
      writeFileSync(join(dataDir, 'RemoteAuth-spec.zip'), 'zip');
      mkdirSync(join(dataDir, 'RemoteAuth-other'));
      const store = { sessionExists: jest.fn(), save: jest.fn(), extract: jest.fn(), delete: jest.fn(async () => undefined) };
      const { client, built, statuses } = setup({ WWEBJS_DATA_DIR: dataDir, WA_AUTH_STORE: 'postgres' }, store);
      await client.start();
      built[0].emit('qr', 'QR-1');
      await client.logout();
      expect(built[0].logout).not.toHaveBeenCalled(); // not logged in: nothing to log out of in the page
      expect(store.delete).toHaveBeenCalledWith({ session: 'RemoteAuth-spec' });
      expect(readdirSync(dataDir)).toEqual(['RemoteAuth-other']);
      expect(statuses.at(-1)).toEqual(['stopped', undefined]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("after a logout from the phone, waits for the library's own handling, then closes and forgets, and never restarts", async () => {
    jest.useFakeTimers();
    const dataDir = mkdtempSync(join(tmpdir(), 'wa-phone-out-'));
    try {
      const { client, statuses, built, options } = setup({ WWEBJS_DATA_DIR: dataDir });
      await client.start();
      built[0].emit('ready');
      const strategy = options[0].authStrategy!;
      strategy.setup(built[0] as unknown as Client);
      await strategy.beforeBrowserInitialized();

      // What whatsapp-web.js does after it emits disconnected('LOGOUT') (its `framenavigated` handler).
      built[0].emit('disconnected', 'LOGOUT');
      expect(statuses.at(-1)).toEqual(['disconnected', 'LOGOUT: logged out from the phone']);
      await strategy.logout();
      await strategy.beforeBrowserInitialized();
      await strategy.afterBrowserInitialized();
      expect(await strategy.onAuthenticationNeeded()).toMatchObject({ failed: true, restart: false });
      built[0].emit('auth_failure', 'logged out from the phone'); // changes nothing any more
      await jest.advanceTimersByTimeAsync(0);
      expect(built[0].destroyed).toBe(0); // the library is still busy: the browser stays
      await strategy.destroy(); // the library closes its browser after the refused authentication
      await jest.advanceTimersByTimeAsync(0);
      expect(built[0].destroyed).toBe(1);
      // The profile the library re-created is deleted (real file I/O: real time).
      // Polled on real timers for up to 10 s: a loaded machine's file I/O takes its time.
      for (let waited = 0; waited < 10_000 && readdirSync(dataDir).length > 0; waited += 10) await new Promise((resolve) => realSetTimeout(resolve, 10));
      expect(readdirSync(dataDir)).toEqual([]);
      expect(statuses.at(-1)).toEqual(['disconnected', 'LOGOUT: logged out from the phone']);
      await jest.advanceTimersByTimeAsync(120_000);
      expect(built).toHaveLength(1);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('does not restart after a logout from the phone', async () => {
    jest.useFakeTimers();
    const { client, statuses, built } = setup();
    await client.start();
    built[0].emit('ready');
    built[0].emit('disconnected', 'LOGOUT');
    expect(statuses.at(-1)).toEqual(['disconnected', 'LOGOUT: logged out from the phone']);
    // The fake library never finishes its logout handling: the settle time runs out, then the browser closes.
    await jest.advanceTimersByTimeAsync(10_000);
    expect(built[0].destroyed).toBe(1);
    await jest.advanceTimersByTimeAsync(120_000);
    expect(built).toHaveLength(1);
    expect(statuses.filter(([s]) => s === 'starting')).toHaveLength(1);
  });

  it('a stop cancels a pending restart and ignores what the old client still reports', async () => {
    jest.useFakeTimers();
    const { client, statuses, built } = setup();
    await client.start();
    built[0].emit('disconnected', 'CONFLICT');
    await jest.advanceTimersByTimeAsync(0);
    await client.stop();
    await jest.advanceTimersByTimeAsync(60_000);
    built[0].emit('ready');
    expect(built).toHaveLength(1);
    expect(statuses.at(-1)).toEqual(['stopped', undefined]);
  });

  it('fails the session with the reason when initialize throws, and closes the browser', async () => {
    const { client, statuses, built } = setup();
    const failing = new FakeLibraryClient();
    failing.initialize.mockRejectedValue('auth timeout');
    built.push(failing);
    const withFailure = new WwebjsWhatsappClient('spec', loadConfig({ CHROME_PATH: '/bin/sh' }).wwebjs, { onStatus: (s, d) => statuses.push([s, d]), onQr: jest.fn(), onMessage: jest.fn(), onMessageAck: jest.fn(), onMessageEdit: jest.fn(), onMessageRevoke: jest.fn(), onMessageReaction: jest.fn() }, undefined, () => failing as unknown as Client);
    await withFailure.start();
    expect(statuses.at(-1)).toEqual(['failed', 'WhatsApp Web did not start: auth timeout']);
    expect(failing.destroyed).toBe(1);
    await client.stop();
  });

  it('turns a hanging call into an error for that call', async () => {
    const { client, built } = setup();
    await client.start();
    built[0].emit('ready');
    built[0].getChats.mockReturnValue(new Promise(() => undefined));
    await expect(client.getChats()).rejects.toThrow('getChats timed out after 500 ms');
  });

  it('refuses calls while not ready', async () => {
    const { client } = setup();
    await client.start();
    await expect(client.getChats()).rejects.toThrow('Session spec is starting');
  });
});
