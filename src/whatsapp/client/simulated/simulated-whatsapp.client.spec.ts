import { WhatsappClientListener } from '../whatsapp-client.port';
import { WaMessage, WaMessageEdit, WaMessageRevoke, WaReaction } from '../whatsapp.types';
import { SimulatedAccount, accountFromSpec } from './simulated-account';
import { SimulatedWhatsappClient } from './simulated-whatsapp.client';
// The test support's client (a production client with a fetch hook), tested here beside the client it extends.
import { SimulatedTestClientFactory } from '../../../../test/support/client-factories';

type Event =
  | ['status', string, string | undefined]
  | ['qr', string]
  | ['message', string]
  | ['ack', string, string, number]
  | ['edit', WaMessageEdit]
  | ['revoke', WaMessageRevoke]
  | ['reaction', WaReaction];

class FakeListener implements WhatsappClientListener {
  readonly events: Event[] = [];
  onStatus(status: string, detail?: string): void {
    this.events.push(['status', status, detail]);
  }
  onQr(qr: string): void {
    this.events.push(['qr', qr]);
  }
  onMessage(message: WaMessage): void {
    this.events.push(['message', message.id]);
  }
  onMessageAck(messageId: string, chatId: string, ack: number): void {
    this.events.push(['ack', messageId, chatId, ack]);
  }
  onMessageEdit(edit: WaMessageEdit): void {
    this.events.push(['edit', edit]);
  }
  onMessageRevoke(revoke: WaMessageRevoke): void {
    this.events.push(['revoke', revoke]);
  }
  onMessageReaction(reaction: WaReaction): void {
    this.events.push(['reaction', reaction]);
  }
  get statuses(): string[] {
    return this.events.filter((e) => e[0] === 'status').map((e) => e[1]);
  }
}

function account(scanAfterMs = 60_000): SimulatedAccount {
  return accountFromSpec({
    scanAfterMs,
    fetchLatencyMs: 0,
    chats: [
      {
        id: 'a@c.us',
        name: 'A',
        isGroup: false,
        unreadCount: 0,
        timestamp: 1764150000,
        archived: false,
        pinned: false,
        failFetch: false,
        messages: [1, 2, 3].map((n) => ({
          id: `false_a@c.us_${n}`,
          fromMe: false,
          author: null,
          body: `m${n}`,
          type: 'chat',
          timestamp: 1764149000 + n,
          hasMedia: false,
          ack: 0,
        })),
      },
      {
        id: 'broken@c.us',
        name: 'Broken',
        isGroup: false,
        unreadCount: 0,
        timestamp: null,
        archived: false,
        pinned: false,
        failFetch: true,
        messages: [],
      },
    ],
  });
}

function setup(sessionId = 's1', acc: SimulatedAccount = account(), logins = new Set<string>()) {
  const listener = new FakeListener();
  const client = new SimulatedWhatsappClient(sessionId, () => acc, listener, logins);
  return { listener, client, logins };
}

describe('SimulatedWhatsappClient', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('start reports starting, then a QR, then qr', async () => {
    const { listener, client, logins } = setup('s1');
    await client.start();
    expect(listener.events).toHaveLength(3);
    expect(listener.events[0]).toEqual(['status', 'starting', undefined]);
    expect(listener.events[1][0]).toBe('qr');
    expect(listener.events[1][1]).toMatch(/^2@[A-Za-z0-9+/]+=*,SIMULATED,s1$/);
    expect(listener.events[2]).toEqual(['status', 'qr', undefined]);
    expect(client.getMe()).toBeNull();
    expect(logins.has('s1')).toBe(false);
    await client.stop();
  });

  it('scan authenticates, becomes ready and remembers the login', async () => {
    const { listener, client, logins } = setup('s1');
    await client.start();
    client.scan();
    expect(listener.statuses).toEqual(['starting', 'qr', 'authenticated', 'ready']);
    expect(logins.has('s1')).toBe(true);
    expect(client.getMe()).toEqual({ id: '20000000000@c.us', pushName: 'Simulated s1' });
    // A second scan changes nothing.
    client.scan();
    expect(listener.statuses).toEqual(['starting', 'qr', 'authenticated', 'ready']);
    await client.stop();
  });

  it('scans by itself after scanAfterMs', async () => {
    jest.useFakeTimers();
    const { listener, client } = setup('s1', account(500));
    await client.start();
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(499);
    expect(listener.statuses).toEqual(['starting', 'qr']);
    jest.advanceTimersByTime(1);
    expect(listener.statuses).toEqual(['starting', 'qr', 'authenticated', 'ready']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('a second client of a logged-in session goes straight to ready, without a QR', async () => {
    const logins = new Set<string>();
    const first = setup('s1', account(), logins);
    await first.client.start();
    first.client.scan();
    await first.client.stop();

    jest.useFakeTimers();
    const second = setup('s1', account(), logins);
    await second.client.start();
    expect(second.listener.events).toEqual([
      ['status', 'starting', undefined],
      ['status', 'authenticated', undefined],
      ['status', 'ready', undefined],
    ]);
    expect(jest.getTimerCount()).toBe(0);
    expect(await second.client.getChats()).toHaveLength(2);

    // The login is per session.
    const other = setup('s2', account(), logins);
    await other.client.start();
    expect(other.listener.statuses).toEqual(['starting', 'qr']);
    await other.client.stop();
  });

  it('getChats and fetchMessages throw until ready, naming the status', async () => {
    const { client } = setup('s1');
    await expect(client.getChats()).rejects.toThrow('Session s1 is starting');
    await expect(client.fetchMessages('a@c.us', 10)).rejects.toThrow('Session s1 is starting');
    await client.start();
    await expect(client.getChats()).rejects.toThrow('Session s1 is qr');
    await expect(client.fetchMessages('a@c.us', 10)).rejects.toThrow('Session s1 is qr');
    client.scan();
    await client.stop();
    await expect(client.getChats()).rejects.toThrow('Session s1 is stopped');
    await expect(client.fetchMessages('a@c.us', 10)).rejects.toThrow('Session s1 is stopped');
  });

  it('when ready, returns the chats and the newest messages oldest first', async () => {
    const { client } = setup('s1');
    await client.start();
    client.scan();
    expect((await client.getChats()).map((c) => c.id)).toEqual(['a@c.us', 'broken@c.us']);
    expect((await client.fetchMessages('a@c.us', 2)).map((m) => m.id)).toEqual(['false_a@c.us_2', 'false_a@c.us_3']);
    expect((await client.fetchMessages('a@c.us', 100)).map((m) => m.body)).toEqual(['m1', 'm2', 'm3']);
    await expect(client.fetchMessages('nobody@c.us', 10)).rejects.toThrow('chat nobody@c.us not found');
    await client.stop();
  });

  it('a failFetch chat throws on fetchMessages', async () => {
    const { client } = setup('s1');
    await client.start();
    client.scan();
    await expect(client.fetchMessages('broken@c.us', 10)).rejects.toThrow('Simulated failure fetching messages of broken@c.us');
    await client.stop();
  });

  it("the tests' simulated client awaits the fetch hook before answering", async () => {
    const listener = new FakeListener();
    const calls: string[] = [];
    let release!: () => void;
    const factory = new SimulatedTestClientFactory(account());
    factory.beforeFetch = (sessionId: string, chatId: string) => {
      calls.push(`${sessionId}/${chatId}`);
      return new Promise<void>((resolve) => (release = resolve));
    };
    const client = factory.create('s1', listener);
    await client.start();
    client.scan();
    let answered = false;
    const fetching = client.fetchMessages('a@c.us', 1).then((m) => {
      answered = true;
      return m;
    });
    await Promise.resolve();
    expect(calls).toEqual(['s1/a@c.us']);
    expect(answered).toBe(false);
    release();
    expect((await fetching).map((m) => m.id)).toEqual(['false_a@c.us_3']);
    await client.stop();
  });

  it('stop clears the scan timer and reports stopped', async () => {
    jest.useFakeTimers();
    const { listener, client, logins } = setup('s1', account(500));
    await client.start();
    expect(jest.getTimerCount()).toBe(1);
    await client.stop();
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(10_000);
    expect(listener.statuses).toEqual(['starting', 'qr', 'stopped']);
    expect(logins.has('s1')).toBe(false);
  });

  it('stop keeps the login', async () => {
    const { client, logins } = setup('s1');
    await client.start();
    client.scan();
    await client.stop();
    expect(logins.has('s1')).toBe(true);
    expect(client.getMe()).toBeNull();
  });

  it('logout forgets the login: the next start asks for a QR again', async () => {
    const logins = new Set<string>();
    const first = setup('s1', account(), logins);
    await first.client.start();
    first.client.scan();
    await first.client.logout();
    expect(first.listener.statuses).toEqual(['starting', 'qr', 'authenticated', 'ready', 'stopped']);
    expect(logins.has('s1')).toBe(false);

    const second = setup('s1', account(), logins);
    await second.client.start();
    expect(second.listener.statuses).toEqual(['starting', 'qr']);
    await second.client.stop();
  });

  it('logout while waiting for a scan clears the scan timer', async () => {
    jest.useFakeTimers();
    const { listener, client } = setup('s1', account(500));
    await client.start();
    await client.logout();
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(10_000);
    expect(listener.statuses).toEqual(['starting', 'qr', 'stopped']);
  });

  it('forwards live messages only while ready, and reports disconnects with their reason', async () => {
    const { listener, client } = setup('s1');
    const message = account().chats[0].newestMessages(1)[0];
    await client.start();
    expect(() => client.receiveMessage(message)).toThrow('Session s1 is qr');
    client.scan();
    client.receiveMessage(message);
    expect(listener.events[listener.events.length - 1]).toEqual(['message', 'false_a@c.us_3']);
    client.disconnect('phone offline');
    expect(listener.events[listener.events.length - 1]).toEqual(['status', 'disconnected', 'phone offline']);
    expect(() => client.receiveMessage(message)).toThrow('Session s1 is disconnected');
    await expect(client.getChats()).rejects.toThrow('Session s1 is disconnected');
  });

  describe('live traffic (the account\'s "live" list)', () => {
    const NOW = 1_764_200_000;
    function liveAccount(): SimulatedAccount {
      const base = account(0);
      const spec = {
        scanAfterMs: 0,
        fetchLatencyMs: 0,
        chats: [
          {
            ...base.chats[0].chat,
            failFetch: false,
            messages: base.chats[0].newestMessages(10).map(({ chatId: _c, raw: _r, ...m }) => m),
          },
        ],
        live: [
          { afterMs: 100, type: 'message' as const, chatId: 'a@c.us', message: { id: 'false_a@c.us_L1', fromMe: false, author: null, body: 'live', type: 'chat', timestamp: NOW, hasMedia: false, ack: 0 } },
          { afterMs: 200, type: 'edit' as const, messageId: 'false_a@c.us_1', body: 'm1 edited' },
          { afterMs: 200, type: 'reaction' as const, messageId: 'false_a@c.us_L1', senderId: 'x@c.us', emoji: '👍' },
          { afterMs: 300, type: 'revoke' as const, messageId: 'false_a@c.us_2' },
          { afterMs: 300, type: 'ack' as const, messageId: 'false_a@c.us_3', ack: 3 },
        ],
      };
      return accountFromSpec(spec);
    }

    it('plays each entry afterMs after ready, in order, and the account keeps what was played', async () => {
      jest.useFakeTimers({ now: NOW * 1000 });
      const acc = liveAccount();
      const { listener, client } = setup('s1', acc, new Set(['s1']));
      await client.start();
      jest.advanceTimersByTime(99);
      expect(listener.events.filter((e) => e[0] !== 'status')).toEqual([]);
      jest.advanceTimersByTime(300);
      expect(listener.events.filter((e) => e[0] !== 'status')).toEqual([
        ['message', 'false_a@c.us_L1'],
        ['edit', { messageId: 'false_a@c.us_1', chatId: 'a@c.us', body: 'm1 edited', editedAt: NOW }],
        ['reaction', { messageId: 'false_a@c.us_L1', chatId: 'a@c.us', senderId: 'x@c.us', emoji: '👍', timestamp: NOW }],
        ['revoke', { messageId: 'false_a@c.us_2', chatId: 'a@c.us', revokedAt: NOW }],
        ['ack', 'false_a@c.us_3', 'a@c.us', 3],
      ]);
      jest.useRealTimers();
      const fetched = await client.fetchMessages('a@c.us', 10);
      expect(fetched.map(({ id, body, type, ack, editedAt }) => ({ id, body, type, ack, editedAt }))).toEqual([
        { id: 'false_a@c.us_1', body: 'm1 edited', type: 'chat', ack: 0, editedAt: NOW },
        { id: 'false_a@c.us_2', body: '', type: 'revoked', ack: 0, editedAt: undefined },
        { id: 'false_a@c.us_3', body: 'm3', type: 'chat', ack: 3, editedAt: undefined },
        { id: 'false_a@c.us_L1', body: 'live', type: 'chat', ack: 0, editedAt: undefined },
      ]);
      expect((await client.getChats())[0].timestamp).toBe(NOW);
      await client.stop();
    });

    it('plays again at the next ready; a stop before afterMs plays nothing', async () => {
      jest.useFakeTimers({ now: NOW * 1000 });
      const acc = liveAccount();
      const { listener, client } = setup('s1', acc, new Set(['s1']));
      await client.start();
      jest.advanceTimersByTime(150);
      await client.stop();
      jest.advanceTimersByTime(1000);
      expect(listener.events.filter((e) => e[0] !== 'status').map((e) => e[0])).toEqual(['message']);
      await client.start();
      jest.advanceTimersByTime(1000);
      expect(listener.events.filter((e) => e[0] !== 'status').map((e) => e[0])).toEqual(['message', 'message', 'edit', 'reaction', 'revoke', 'ack']);
      // Played twice, the message is still one message of the account.
      jest.useRealTimers();
      expect((await client.fetchMessages('a@c.us', 10)).filter((m) => m.id === 'false_a@c.us_L1')).toHaveLength(1);
      await client.stop();
    });
  });
});
