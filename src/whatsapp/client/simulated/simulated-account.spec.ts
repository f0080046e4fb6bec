import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAccount } from './generated-account';
import { SimulatedAccount, accountFromSpec, loadAccountFile, parseAccountSpec, toWaMessage } from './simulated-account';

/** The example of README.md, "Simulated account". */
const README_EXAMPLE = {
  scanAfterMs: 500,
  fetchLatencyMs: 0,
  chats: [
    {
      id: 'chat1@c.us',
      name: 'Alice',
      isGroup: false,
      unreadCount: 2,
      timestamp: 1764150000,
      archived: false,
      pinned: false,
      failFetch: false,
      messages: [
        {
          id: 'false_chat1@c.us_AAA1',
          fromMe: false,
          author: null,
          body: 'hi',
          type: 'chat',
          timestamp: 1764149000,
          hasMedia: false,
          ack: 3,
        },
      ],
    },
  ],
};

const WHERE = 'SIMULATED_ACCOUNT test.json';

function parseError(value: unknown): string {
  try {
    parseAccountSpec(value, WHERE);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('parseAccountSpec accepted the value');
}

/** A chat's observable data (functions are not comparable). */
function snapshot(account: SimulatedAccount, limit: number) {
  return {
    scanAfterMs: account.scanAfterMs,
    fetchLatencyMs: account.fetchLatencyMs,
    chats: account.chats.map((c) => ({ chat: c.chat, failFetch: c.failFetch, messages: c.newestMessages(limit) })),
  };
}

describe('parseAccountSpec', () => {
  it('reads the README example exactly', () => {
    expect(parseAccountSpec(README_EXAMPLE, WHERE)).toEqual(README_EXAMPLE);
  });

  it('fills defaults for everything but ids', () => {
    expect(parseAccountSpec({ chats: [{ id: '1@c.us' }, { id: '2-3@g.us', messages: [{ id: 'm1' }] }] }, WHERE)).toEqual({
      scanAfterMs: 500,
      fetchLatencyMs: 0,
      chats: [
        {
          id: '1@c.us',
          name: '1@c.us',
          isGroup: false,
          unreadCount: 0,
          timestamp: null,
          archived: false,
          pinned: false,
          failFetch: false,
          messages: [],
        },
        {
          id: '2-3@g.us',
          name: '2-3@g.us',
          isGroup: true,
          unreadCount: 0,
          timestamp: null,
          archived: false,
          pinned: false,
          failFetch: false,
          messages: [
            { id: 'm1', fromMe: false, author: null, body: '', type: 'chat', timestamp: 0, hasMedia: false, ack: 0 },
          ],
        },
      ],
    });
  });

  it('keeps explicit values and accepts an empty account', () => {
    const explicit = {
      scanAfterMs: 0,
      fetchLatencyMs: 25,
      chats: [
        {
          id: '9@c.us',
          name: 'Nine',
          isGroup: true,
          unreadCount: 7,
          timestamp: null,
          archived: true,
          pinned: true,
          failFetch: true,
          messages: [
            { id: 'true_9@c.us_X', fromMe: true, author: '5@c.us', body: 'b', type: 'image', timestamp: 5, hasMedia: true, ack: 2 },
          ],
        },
      ],
    };
    const spec = parseAccountSpec(explicit, WHERE);
    // Every field was given, so the parsed spec is exactly the input.
    expect(spec).toEqual(explicit);
    expect(parseAccountSpec({ chats: [] }, WHERE)).toEqual({ scanAfterMs: 500, fetchLatencyMs: 0, chats: [] });
  });

  it.each([
    ['a non-object root', 42, `${WHERE} must be an object`],
    ['null', null, `${WHERE} must be an object`],
    ['an array root', [], `${WHERE} must be an object`],
    ['missing chats', {}, `${WHERE}: "chats" must be an array`],
    ['chats not an array', { chats: {} }, `${WHERE}: "chats" must be an array`],
    ['a bad scanAfterMs', { scanAfterMs: '500', chats: [] }, `${WHERE}: scanAfterMs must be a number`],
    ['a NaN-like fetchLatencyMs', { fetchLatencyMs: null, chats: [] }, `${WHERE}: fetchLatencyMs must be a number`],
    ['a chat that is not an object', { chats: [{ id: 'a' }, 'b'] }, `${WHERE}: chats[1] must be an object`],
    ['a chat without id', { chats: [{ id: 'a' }, { name: 'x' }] }, `${WHERE}: chats[1].id must be a non-empty string`],
    ['a chat with an empty id', { chats: [{ id: '' }] }, `${WHERE}: chats[0].id must be a non-empty string`],
    ['a chat with a numeric id', { chats: [{ id: 5 }] }, `${WHERE}: chats[0].id must be a non-empty string`],
    ['messages not an array', { chats: [{ id: 'a', messages: 'no' }] }, `${WHERE}: chats[0].messages must be an array`],
    ['a bad unreadCount', { chats: [{ id: 'a', unreadCount: '2' }] }, `${WHERE}: chats[0].unreadCount must be a number`],
    ['a bad chat timestamp', { chats: [{ id: 'a', timestamp: 'now' }] }, `${WHERE}: chats[0].timestamp must be a number`],
    [
      'a message without id',
      { chats: [{ id: 'a' }, { id: 'b', messages: [{ body: 'x' }] }] },
      `${WHERE}: chats[1].messages[0].id must be a non-empty string`,
    ],
    [
      'a message that is not an object',
      { chats: [{ id: 'a', messages: [{ id: 'm' }, null] }] },
      `${WHERE}: chats[0].messages[1] must be an object`,
    ],
    [
      'a bad message timestamp',
      { chats: [{ id: 'a', messages: [{ id: 'm', timestamp: '1764149000' }] }] },
      `${WHERE}: chats[0].messages[0].timestamp must be a number`,
    ],
    [
      'a bad ack',
      { chats: [{ id: 'a', messages: [{ id: 'm' }, { id: 'n', ack: 'read' }] }] },
      `${WHERE}: chats[0].messages[1].ack must be a number`,
    ],
  ])('rejects %s, naming the field', (_what, value, message) => {
    expect(parseError(value)).toBe(message);
  });
});

describe('parseAccountSpec: the "live" list', () => {
  const chats = [{ id: 'a@c.us', messages: [{ id: 'm1' }] }];
  const message = { id: 'L1', fromMe: true, author: null, body: 'live', type: 'chat', timestamp: 5, hasMedia: false, ack: 1 };

  it('reads every type of entry, afterMs defaulting to 0', () => {
    const live = [
      { afterMs: 500, type: 'message', chatId: 'a@c.us', message },
      { type: 'edit', messageId: 'L1', body: 'edited' },
      { afterMs: 10, type: 'revoke', messageId: 'm1' },
      { afterMs: 20, type: 'reaction', messageId: 'm1', senderId: 'x@c.us', emoji: '' },
      { afterMs: 30, type: 'ack', messageId: 'L1', ack: 3 },
    ];
    expect(parseAccountSpec({ chats, live }, WHERE).live).toEqual([
      { afterMs: 500, type: 'message', chatId: 'a@c.us', message },
      { afterMs: 0, type: 'edit', messageId: 'L1', body: 'edited' },
      { afterMs: 10, type: 'revoke', messageId: 'm1' },
      { afterMs: 20, type: 'reaction', messageId: 'm1', senderId: 'x@c.us', emoji: '' },
      { afterMs: 30, type: 'ack', messageId: 'L1', ack: 3 },
    ]);
  });

  it.each([
    ['live not an array', { live: {} }, `${WHERE}: "live" must be an array`],
    ['an entry that is not an object', { live: [5] }, `${WHERE}: live[0] must be an object`],
    ['an unknown type', { live: [{ type: 'delete', messageId: 'm1' }] }, `${WHERE}: live[0].type must be one of message, edit, revoke, reaction, ack`],
    ['a negative afterMs', { live: [{ afterMs: -1, type: 'revoke', messageId: 'm1' }] }, `${WHERE}: live[0].afterMs must be a number of milliseconds, 0 or more`],
    ['a message of an unknown chat', { live: [{ type: 'message', chatId: 'zz@c.us', message }] }, `${WHERE}: live[0].chatId "zz@c.us" is not a chat of the account`],
    ['a message without message', { live: [{ type: 'message', chatId: 'a@c.us' }] }, `${WHERE}: live[0].message must be an object`],
    ['an edit without body', { live: [{ type: 'edit', messageId: 'm1' }] }, `${WHERE}: live[0].body must be a string`],
    [
      'an edit of an unknown message',
      { live: [{ type: 'revoke', messageId: 'm1' }, { type: 'edit', messageId: 'L1', body: 'x' }, { type: 'message', chatId: 'a@c.us', message }] },
      `${WHERE}: live[1].messageId "L1" is not a message of the account or of an earlier live message`,
    ],
    ['a reaction without senderId', { live: [{ type: 'reaction', messageId: 'm1', emoji: '👍' }] }, `${WHERE}: live[0].senderId must be a non-empty string`],
    ['a reaction without emoji', { live: [{ type: 'reaction', messageId: 'm1', senderId: 'x' }] }, `${WHERE}: live[0].emoji must be a string ("" removes the reaction)`],
    ['an ack out of range', { live: [{ type: 'ack', messageId: 'm1', ack: 9 }] }, `${WHERE}: live[0].ack must be an integer from -1 to 4`],
  ])('rejects %s, naming the entry', (_what, extra, error) => {
    expect(parseError({ chats, ...extra })).toBe(error);
  });
});

describe('loadAccountFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'simulated-account-spec-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the README example from a file', () => {
    const path = join(dir, 'account.json');
    writeFileSync(path, JSON.stringify(README_EXAMPLE));
    const account = loadAccountFile(path);
    expect(account.scanAfterMs).toBe(500);
    expect(account.chats.map((c) => c.chat.id)).toEqual(['chat1@c.us']);
    expect(account.chats[0].newestMessages(10).map((m) => m.id)).toEqual(['false_chat1@c.us_AAA1']);
  });

  it('names the path for unreadable JSON and for a bad field', () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ not json');
    expect(() => loadAccountFile(broken)).toThrow(`SIMULATED_ACCOUNT ${broken}: `);
    const missing = join(dir, 'missing.json');
    expect(() => loadAccountFile(missing)).toThrow(`SIMULATED_ACCOUNT ${missing}: `);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ chats: [{ id: 'a' }, { id: 'b', messages: [{}] }] }));
    expect(() => loadAccountFile(bad)).toThrow(`SIMULATED_ACCOUNT ${bad}: chats[1].messages[0].id must be a non-empty string`);
  });
});

describe('accountFromSpec', () => {
  const messages = [5, 1, 4, 2, 3].map((n) => ({
    id: `m${n}`,
    fromMe: n % 2 === 0,
    author: null,
    body: `body ${n}`,
    type: 'chat',
    timestamp: 1000 + n,
    hasMedia: false,
    ack: n,
  }));
  const spec = {
    scanAfterMs: 10,
    fetchLatencyMs: 0,
    chats: [
      {
        id: 'c@c.us',
        name: 'C',
        isGroup: false,
        unreadCount: 1,
        timestamp: 1005,
        archived: false,
        pinned: true,
        failFetch: true,
        messages,
      },
    ],
  };

  it('exposes the chat fields (without messages and failFetch) and keeps failFetch aside', () => {
    const account = accountFromSpec(spec);
    const fields = { id: 'c@c.us', name: 'C', isGroup: false, unreadCount: 1, timestamp: 1005, archived: false, pinned: true };
    expect(account.scanAfterMs).toBe(10);
    expect(account.chats[0].chat).toEqual({ ...fields, raw: fields });
    expect(account.chats[0].failFetch).toBe(true);
  });

  it('newestMessages(limit) returns the newest `limit` messages, oldest first', () => {
    const chat = accountFromSpec(spec).chats[0];
    expect(chat.newestMessages(3).map((m) => m.id)).toEqual(['m3', 'm4', 'm5']);
    expect(chat.newestMessages(1).map((m) => m.id)).toEqual(['m5']);
    expect(chat.newestMessages(5).map((m) => m.id)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(chat.newestMessages(100).map((m) => m.id)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(chat.newestMessages(0)).toEqual([]);
  });

  it('builds whatsapp-web.js-like messages with a raw object', () => {
    const [message] = accountFromSpec(spec).chats[0].newestMessages(1);
    const fields = { id: 'm5', fromMe: false, author: null, body: 'body 5', type: 'chat', timestamp: 1005, hasMedia: false, ack: 5 };
    expect(message).toEqual({ ...fields, chatId: 'c@c.us', raw: { ...fields, from: 'c@c.us', to: 'me' } });
    expect(toWaMessage('c@c.us', { ...fields, fromMe: true }).raw).toEqual({ ...fields, fromMe: true, from: 'me', to: 'c@c.us' });
  });

  it('does not reorder or share the spec messages', () => {
    const chat = accountFromSpec(spec).chats[0];
    chat.newestMessages(5)[0].body = 'changed';
    expect(chat.newestMessages(5)[0].body).toBe('body 1');
    expect(spec.chats[0].messages.map((m) => m.id)).toEqual(['m5', 'm1', 'm4', 'm2', 'm3']);
  });
});

describe('generateAccount', () => {
  it('is deterministic', () => {
    const options = { chats: 12, messagesPerChat: 9 };
    expect(snapshot(generateAccount(options), 9)).toEqual(snapshot(generateAccount(options), 9));
  });

  it('has the requested sizes and defaults', () => {
    const account = generateAccount({ chats: 7, messagesPerChat: 30 });
    expect(account.scanAfterMs).toBe(500);
    expect(account.fetchLatencyMs).toBe(0);
    expect(account.chats).toHaveLength(7);
    for (const chat of account.chats) {
      expect(chat.newestMessages(1000)).toHaveLength(30);
      expect(chat.newestMessages(30)).toHaveLength(30);
      expect(chat.newestMessages(10)).toHaveLength(10);
      expect(chat.newestMessages(0)).toHaveLength(0);
      expect(chat.failFetch).toBe(false);
    }
    expect(generateAccount({ chats: 0, messagesPerChat: 5 }).chats).toEqual([]);
    expect(generateAccount({ chats: 3, messagesPerChat: 0 }).chats.map((c) => [c.chat.timestamp, c.newestMessages(10)])).toEqual([
      [null, []],
      [null, []],
      [null, []],
    ]);
    const tuned = generateAccount({ chats: 1, messagesPerChat: 1, scanAfterMs: 0, fetchLatencyMs: 7 });
    expect([tuned.scanAfterMs, tuned.fetchLatencyMs]).toEqual([0, 7]);
  });

  it('makes every fifth chat a group, with authors on others\' group messages', () => {
    const account = generateAccount({ chats: 15, messagesPerChat: 6 });
    expect(account.chats.map((c) => c.chat.isGroup)).toEqual(Array.from({ length: 15 }, (_, i) => i % 5 === 4));
    for (const { chat } of account.chats) {
      expect(chat.id.endsWith(chat.isGroup ? '@g.us' : '@c.us')).toBe(true);
    }
    const group = account.chats[4];
    for (const message of group.newestMessages(6)) {
      expect(message.author === null).toBe(message.fromMe);
    }
    for (const message of account.chats[0].newestMessages(6)) expect(message.author).toBeNull();
  });

  it('has unique chat and message ids, oldest-first messages ending at the chat timestamp', () => {
    const account = generateAccount({ chats: 10, messagesPerChat: 20 });
    const chatIds = account.chats.map((c) => c.chat.id);
    expect(new Set(chatIds).size).toBe(10);
    const messageIds = account.chats.flatMap((c) => c.newestMessages(20).map((m) => m.id));
    expect(new Set(messageIds).size).toBe(200);
    for (const c of account.chats) {
      const list = c.newestMessages(20);
      const timestamps = list.map((m) => m.timestamp);
      expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));
      expect(timestamps[19]).toBe(c.chat.timestamp);
      expect(list.every((m) => m.chatId === c.chat.id)).toBe(true);
    }
  });

  it('newestMessages(limit) returns the newest `limit`, oldest first', () => {
    const chat = generateAccount({ chats: 1, messagesPerChat: 10 }).chats[0];
    const all = chat.newestMessages(10);
    expect(chat.newestMessages(4)).toEqual(all.slice(6));
  });

  it('does not store messages: each call builds equal but fresh objects', () => {
    const chat = generateAccount({ chats: 1, messagesPerChat: 5 }).chats[0];
    const first = chat.newestMessages(5);
    const second = chat.newestMessages(5);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    second.forEach((message, i) => {
      expect(message).not.toBe(first[i]);
      expect(message.raw).not.toBe(first[i].raw);
    });
    first[0].body = 'mutated';
    expect(chat.newestMessages(5)[0].body).not.toBe('mutated');
  });
});
