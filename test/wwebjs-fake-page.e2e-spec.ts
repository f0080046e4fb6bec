import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chat, Client, GroupChat, LocalAuth, Message, Reaction } from 'whatsapp-web.js';
import { mapEdit, mapReaction, mapRevoke } from '../src/whatsapp/client/wwebjs/wwebjs-mappers';
import {
  FAKE_WEB_VERSION,
  FakeAccount,
  FakePageGlobal,
  FakeWaApi,
  writeFakePage,
} from './fixtures/fake-whatsapp-web/fake-page';

/**
 * The unmodified whatsapp-web.js Client, in real headless Chromium, against the fake WhatsApp Web
 * page of test/fixtures/fake-whatsapp-web: the contract between the library and the fake.
 */

jest.setTimeout(60_000);

const EVENT_DEADLINE_MS = 20_000;
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-setuid-sandbox',
  '--disable-dev-shm-usage',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
];

const ME = '15550000000@c.us';
const ALICE = '15551110001@c.us';
const BOB = '15551110002@c.us';
const SAM = '15551110003@c.us';
const FAMILY = '120363000000000001@g.us';

const account: FakeAccount = {
  me: { user: '15550000000', pushName: 'Fixture Owner' },
  chats: [
    {
      id: ALICE,
      name: 'Alice',
      unreadCount: 2,
      pinned: true,
      messages: [
        { id: `false_${ALICE}_A1`, fromMe: false, body: 'hi', timestamp: 1764150000 },
        { id: `true_${ALICE}_A2`, fromMe: true, body: 'hello Alice', timestamp: 1764150100, ack: 3 },
        { id: `false_${ALICE}_A3`, fromMe: false, body: '', type: 'image', caption: 'the beach', timestamp: 1764150200 },
        { id: `false_${ALICE}_A4`, fromMe: false, body: 'nice, right?', timestamp: 1764150300, quotedMsgId: `true_${ALICE}_A2` },
      ],
    },
    {
      id: FAMILY,
      name: 'Family',
      archived: true,
      participants: [ALICE, BOB, ME],
      messages: [
        { id: `false_${FAMILY}_G1_${BOB}`, fromMe: false, author: BOB, body: 'dinner?', timestamp: 1764140000 },
        { id: `false_${FAMILY}_G2_${ALICE}`, fromMe: false, author: ALICE, body: 'at 8', timestamp: 1764140100 },
        { id: `true_${FAMILY}_G3`, fromMe: true, body: 'see you', timestamp: 1764140200 },
      ],
    },
    {
      id: SAM,
      name: 'Slow Sam',
      hangFetch: true,
      messages: [
        { id: `false_${SAM}_S1`, fromMe: false, body: 'one', timestamp: 1764130000 },
        { id: `false_${SAM}_S2`, fromMe: false, body: 'two', timestamp: 1764130100 },
      ],
    },
  ],
};

/** Records a client's events from the start, so that none is missed between two awaits. */
class EventLog {
  readonly events: { name: string; args: unknown[] }[] = [];
  private waiters: (() => void)[] = [];

  constructor(client: Client, names: string[]) {
    for (const name of names) {
      client.on(name, (...args: unknown[]) => {
        this.events.push({ name, args });
        this.waiters.forEach((wake) => wake());
      });
    }
  }

  names(): string[] {
    return this.events.map((e) => e.name);
  }

  /** The arguments of the first `name` event (past or future) that `match` accepts, within a deadline. */
  waitFor<A extends unknown[] = unknown[]>(name: string, match: (...args: A) => boolean = () => true): Promise<A> {
    const found = () => this.events.find((e) => e.name === name && match(...(e.args as A)));
    return new Promise<A>((resolve, reject) => {
      const check = () => {
        const event = found();
        if (!event) return false;
        clearTimeout(deadline);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(event.args as A);
        return true;
      };
      const deadline = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`no '${name}' event within ${EVENT_DEADLINE_MS} ms; got: ${this.names().join(', ')}`));
      }, EVENT_DEADLINE_MS);
      if (!check()) this.waiters.push(check);
    });
  }
}

const EVENTS = [
  'qr', 'authenticated', 'auth_failure', 'ready', 'loading_screen', 'message', 'message_create', 'message_ack',
  'message_edit', 'message_revoke_everyone', 'message_reaction', 'disconnected',
];

const root = mkdtempSync(join(tmpdir(), 'wwebjs-fake-page-'));
const cacheDir = join(root, 'web-cache');
const authDir = join(root, 'auth');
const browserPids: number[] = [];

function newClient(clientId: string, pageDir = cacheDir): { client: Client; log: EventLog } {
  const client = new Client({
    puppeteer: { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS },
    authStrategy: new LocalAuth({ clientId, dataPath: authDir }),
    webVersion: FAKE_WEB_VERSION,
    webVersionCache: { type: 'local', path: pageDir, strict: true },
  });
  return { client, log: new EventLog(client, EVENTS) };
}

/** initialize() resolves once the page is injected; its failures are reported by the awaited events. */
function start(client: Client): Promise<void> {
  const init = client.initialize();
  init.catch(() => undefined);
  return init.then(() => {
    const pid = client.pupBrowser?.process()?.pid;
    if (pid) browserPids.push(pid);
  });
}

/**
 * Calls the page's window.__fakeWa: `fn(api, arg)` runs in the browser (so it may use only its
 * parameters), `arg` is passed as JSON.
 */
function fakeWa<R>(client: Client, fn: (api: FakeWaApi, arg: never) => R, arg?: unknown): Promise<Awaited<R>> {
  return client.pupPage!.evaluate(
    new Function('arg', `return (${fn.toString()})(globalThis.__fakeWa, arg);`) as (arg: unknown) => R,
    arg,
  ) as Promise<Awaited<R>>;
}

beforeAll(() => {
  writeFakePage(cacheDir, account);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('a new login: QR, scan, ready, then data and live events', () => {
  let client: Client;
  let log: EventLog;

  beforeAll(() => {
    ({ client, log } = newClient('main'));
  });
  afterAll(async () => {
    await client.destroy();
  });

  it("emits 'qr', then 'authenticated' and 'ready' once the phone scans", async () => {
    const started = start(client);
    const [qr] = await log.waitFor<[string]>('qr');
    expect(typeof qr).toBe('string');
    expect(qr.split(',')).toHaveLength(5); // ref, noise key, identity key, adv secret, platform

    await client.pupPage!.evaluate(() => (globalThis as unknown as FakePageGlobal).__fakeWa.scan());
    await log.waitFor('authenticated');
    await log.waitFor('ready');
    await started;

    const names = log.names();
    expect(names.indexOf('qr')).toBeLessThan(names.indexOf('authenticated'));
    expect(names.indexOf('authenticated')).toBeLessThan(names.indexOf('ready'));
    expect(names).toContain('loading_screen');
    expect(client.info.wid._serialized).toBe(ME);
    expect(client.info.pushname).toBe('Fixture Owner');
  });

  it('getChats() returns the private chat and the group with their fields', async () => {
    const chats = await client.getChats();
    const byId = new Map<string, Chat>(chats.map((c) => [c.id._serialized, c]));
    expect([...byId.keys()].sort()).toEqual([FAMILY, ALICE, SAM].sort());

    const alice = byId.get(ALICE)!;
    expect({
      id: alice.id._serialized,
      name: alice.name,
      isGroup: alice.isGroup,
      unreadCount: alice.unreadCount,
      timestamp: alice.timestamp,
      archived: alice.archived,
      pinned: alice.pinned,
      isMuted: alice.isMuted,
    }).toEqual({ id: ALICE, name: 'Alice', isGroup: false, unreadCount: 2, timestamp: 1764150300, archived: false, pinned: true, isMuted: false });
    expect(alice.lastMessage?.id._serialized).toBe(`false_${ALICE}_A4`);

    const family = byId.get(FAMILY) as GroupChat;
    expect({
      id: family.id._serialized,
      name: family.name,
      isGroup: family.isGroup,
      unreadCount: family.unreadCount,
      timestamp: family.timestamp,
      archived: family.archived,
      pinned: family.pinned,
    }).toEqual({ id: FAMILY, name: 'Family', isGroup: true, unreadCount: 0, timestamp: 1764140200, archived: true, pinned: false });
    expect(family.participants.map((p) => p.id._serialized)).toEqual([ALICE, BOB, ME]);
  });

  it('fetchMessages({limit: 2}) returns the 2 newest messages with their fields', async () => {
    const alice = await client.getChatById(ALICE);
    const messages = await alice.fetchMessages({ limit: 2 });
    expect(messages.map(fields)).toEqual([
      {
        id: `false_${ALICE}_A3`, from: ALICE, to: ME, author: undefined, body: 'the beach', type: 'image',
        timestamp: 1764150200, hasMedia: true, ack: 0, hasQuotedMsg: false, fromMe: false,
      },
      {
        id: `false_${ALICE}_A4`, from: ALICE, to: ME, author: undefined, body: 'nice, right?', type: 'chat',
        timestamp: 1764150300, hasMedia: false, ack: 0, hasQuotedMsg: true, fromMe: false,
      },
    ]);
    const quoted = await messages[1].getQuotedMessage();
    expect(quoted.id._serialized).toBe(`true_${ALICE}_A2`);
    expect(quoted.body).toBe('hello Alice');

    const family = await client.getChatById(FAMILY);
    const groupMessages = await family.fetchMessages({ limit: 2 });
    expect(groupMessages.map(fields)).toEqual([
      {
        id: `false_${FAMILY}_G2_${ALICE}`, from: FAMILY, to: ME, author: ALICE, body: 'at 8', type: 'chat',
        timestamp: 1764140100, hasMedia: false, ack: 0, hasQuotedMsg: false, fromMe: false,
      },
      {
        id: `true_${FAMILY}_G3`, from: ME, to: FAMILY, author: ME, body: 'see you', type: 'chat',
        timestamp: 1764140200, hasMedia: false, ack: 1, hasQuotedMsg: false, fromMe: true,
      },
    ]);

    // More than the chat has: everything, oldest first.
    const all = await alice.fetchMessages({ limit: 10 });
    expect(all.map((m) => m.id.id)).toEqual(['A1', 'A2', 'A3', 'A4']);
  });

  it("a hanging chat's fetchMessages does not resolve", async () => {
    const sam = await client.getChatById(SAM);
    const fetching = sam.fetchMessages({ limit: 2 }).then(() => 'resolved' as const);
    fetching.catch(() => undefined); // it rejects when the browser closes
    // The one timer that stands for time passing: the thing under test is "does not resolve".
    let timer: NodeJS.Timeout | undefined;
    const oneSecond = new Promise<'still pending'>((resolve) => (timer = setTimeout(() => resolve('still pending'), 1000)));
    expect(await Promise.race([fetching, oneSecond])).toBe('still pending');
    clearTimeout(timer);
  });

  it("receiveMessage makes the client emit 'message' and 'message_create'", async () => {
    const incoming = { chatId: ALICE, id: `false_${ALICE}_LIVE1`, fromMe: false, body: 'are you there?', timestamp: 1764150400 };
    await fakeWa(client, (api, msg: typeof incoming) => api.receiveMessage(msg), incoming);

    const [message] = await log.waitFor<[Message]>('message', (m) => m.id._serialized === incoming.id);
    expect(fields(message)).toEqual({
      id: incoming.id, from: ALICE, to: ME, author: undefined, body: 'are you there?', type: 'chat',
      timestamp: 1764150400, hasMedia: false, ack: 0, hasQuotedMsg: false, fromMe: false,
    });
    await log.waitFor<[Message]>('message_create', (m) => m.id._serialized === incoming.id);

    // A group message carries its author.
    const groupMsg = { chatId: FAMILY, id: `false_${FAMILY}_LIVE2_${BOB}`, fromMe: false, author: BOB, body: 'ok', timestamp: 1764150500 };
    await fakeWa(client, (api, msg: typeof groupMsg) => api.receiveMessage(msg), groupMsg);
    const [fromGroup] = await log.waitFor<[Message]>('message', (m) => m.id._serialized === groupMsg.id);
    expect([fromGroup.from, fromGroup.author, fromGroup.body]).toEqual([FAMILY, BOB, 'ok']);
  });

  it("setAck makes the client emit 'message_ack'", async () => {
    // A message sent from the phone: message_create only, then its ack rises.
    const sent = { chatId: ALICE, id: `true_${ALICE}_LIVE3`, fromMe: true, body: 'yes!', timestamp: 1764150600 };
    await fakeWa(client, (api, msg: typeof sent) => api.receiveMessage(msg), sent);
    await log.waitFor<[Message]>('message_create', (m) => m.id._serialized === sent.id);
    await fakeWa(client, (api, id: string) => api.setAck(id, 3), sent.id);

    const [message, ack] = await log.waitFor<[Message, number]>('message_ack', (m) => m.id._serialized === sent.id);
    expect(ack).toBe(3);
    expect(message.ack).toBe(3);
    expect(log.events.filter((e) => e.name === 'message' && (e.args[0] as Message).id._serialized === sent.id)).toEqual([]);
  });

  it("editMessage, revokeMessage and react make the client emit message_edit, message_revoke_everyone and message_reaction, which the adapter's mappers read", async () => {
    const sent = { chatId: ALICE, id: `true_${ALICE}_LIVE4`, fromMe: true, body: 'see you at 5', timestamp: 1764150700 };
    await fakeWa(client, (api, msg: typeof sent) => api.receiveMessage(msg), sent);
    await log.waitFor<[Message]>('message_create', (m) => m.id._serialized === sent.id);

    await fakeWa(client, (api, id: string) => api.editMessage(id, 'see you at 6', 1764150800123), sent.id);
    const [edited, newBody, prevBody] = await log.waitFor<[Message, string, string]>('message_edit', (m) => m.id._serialized === sent.id);
    expect([newBody, prevBody]).toEqual(['see you at 6', 'see you at 5']);
    expect(mapEdit(edited, newBody, 1)).toEqual({ messageId: sent.id, chatId: ALICE, body: 'see you at 6', editedAt: 1764150800 });

    await fakeWa(client, (api, id: string) => api.react(id, '5511977770000@c.us', '👍', 1764150900000), sent.id);
    const [reaction] = await log.waitFor<[Reaction]>('message_reaction', (r) => r.msgId._serialized === sent.id);
    expect(mapReaction(reaction)).toEqual({ messageId: sent.id, chatId: ALICE, senderId: '5511977770000@c.us', emoji: '👍', timestamp: 1764150900 });

    await fakeWa(client, (api, id: string) => api.revokeMessage(id), sent.id);
    const [revoked] = await log.waitFor<[Message]>('message_revoke_everyone', (m) => m.id._serialized === sent.id);
    expect(revoked.type).toBe('revoked');
    expect(mapRevoke(revoked, 42)).toEqual({ messageId: sent.id, chatId: ALICE, revokedAt: 42 });
    // The text going away is no edit: one message_edit in all.
    expect(log.events.filter((e) => e.name === 'message_edit')).toHaveLength(1);
  });

  it('the page provides every module the library asked for (a version bump names the new ones here)', async () => {
    const { missing, requested, errors } = await fakeWa(client, (api) => ({
      missing: api.missingModules,
      requested: api.requestedModules,
      errors: api.listenerErrors,
    }));
    expect(missing).toEqual([]);
    expect(requested).toEqual(expect.arrayContaining(['WAWebSocketModel', 'WAWebCollections', 'WAWebChatLoadMessages']));
    expect(errors).toEqual([]);
  });
});

describe('a restored LocalAuth session, then a logout from the phone', () => {
  let client: Client;
  let log: EventLog;

  beforeAll(() => {
    ({ client, log } = newClient('main')); // the profile the first describe paired
  });
  afterAll(async () => {
    await client.destroy();
  });

  it("reaches 'ready' without a 'qr'", async () => {
    const started = start(client);
    await log.waitFor('ready');
    await started;
    expect(log.names()).not.toContain('qr');
    expect(log.names()).toContain('authenticated');
    expect((await client.getChats()).length).toBe(3);
    expect(await fakeWa(client, (api) => api.missingModules)).toEqual([]);
  });

  it("logoutFromPhone makes the client emit 'disconnected' with 'LOGOUT', then a new 'qr'", async () => {
    await fakeWa(client, (api) => api.logoutFromPhone());
    const [reason] = await log.waitFor<[string]>('disconnected');
    expect(reason).toBe('LOGOUT');
    await log.waitFor('qr'); // the reloaded page shows a QR again
    // The library is still injecting (after a navigation it does so unawaited): let it finish before
    // the browser closes, or its pending page call rejects unhandled.
    await fakeWa(client, (api) => api.whenInjected());
    expect(log.events.filter((e) => e.name === 'disconnected').map((e) => e.args[0])).toEqual(['LOGOUT']);
  });
});

describe("WhatsApp's offline delivery still under way at the sync (offlineDelivery, deliverOffline)", () => {
  const offlineDir = join(root, 'web-cache-offline');
  const delivered = { chatId: ALICE, id: `false_${ALICE}_OFF1`, fromMe: false, body: 'while you were away', timestamp: 1764150900 };
  let client: Client;
  let log: EventLog;

  beforeAll(() => {
    writeFakePage(offlineDir, { ...account, offlineDelivery: { progress: 40, messages: [delivered] } });
    ({ client, log } = newClient('offline', offlineDir));
  });
  afterAll(async () => {
    await client.destroy();
  });

  it("the library emits 'ready' at 40%; deliverOffline adds the message without a 'message' event, then 100%", async () => {
    const started = start(client);
    await log.waitFor('qr');
    await fakeWa(client, (api) => api.scan());
    await log.waitFor('ready');
    await started;
    const progress = () => log.events.filter((e) => e.name === 'loading_screen' || e.name === 'ready').map((e) => (e.name === 'ready' ? 'ready' : e.args[0]));
    expect(progress()).toEqual([40, 'ready']);

    await fakeWa(client, (api) => api.deliverOffline());
    await log.waitFor<[number]>('loading_screen', (percent) => percent === 100);
    expect(progress()).toEqual([40, 'ready', 100]);

    const alice = await client.getChatById(ALICE);
    expect(alice.timestamp).toBe(delivered.timestamp);
    expect(alice.unreadCount).toBe(3);
    expect((await alice.fetchMessages({ limit: 2 })).map((m) => [m.id._serialized, m.body])).toEqual([
      [`false_${ALICE}_A4`, 'nice, right?'],
      [delivered.id, delivered.body],
    ]);
    expect(log.names().filter((name) => name === 'message' || name === 'message_create')).toEqual([]);
    await expect(fakeWa(client, (api) => api.deliverOffline())).rejects.toThrow('no offline delivery pending');
    expect(await fakeWa(client, (api) => api.missingModules)).toEqual([]);
  });
});

it('leaves no chromium process started by these tests', () => {
  expect(browserPids.length).toBeGreaterThan(0);
  // A browser's processes: its own pid, its process group (puppeteer starts it detached) and anything
  // naming our temporary directory (its --user-data-dir). Zombies (state Z) have exited already: they
  // only wait for PID 1 to reap them, which in some sandboxes happens late.
  const ps = execFileSync('ps', ['-eo', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  const left = ps
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => !!m)
    .filter(([, pid, pgid, , args]) => browserPids.includes(Number(pid)) || browserPids.includes(Number(pgid)) || args.includes(root))
    .filter(([, , , stat]) => !stat.startsWith('Z'))
    .map(([line]) => line);
  expect(left).toEqual([]);
});

function fields(m: Message) {
  return {
    id: m.id._serialized,
    from: m.from,
    to: m.to,
    author: m.author,
    body: m.body,
    type: m.type,
    timestamp: m.timestamp,
    hasMedia: m.hasMedia,
    ack: m.ack,
    hasQuotedMsg: m.hasQuotedMsg,
    fromMe: m.fromMe,
  };
}
