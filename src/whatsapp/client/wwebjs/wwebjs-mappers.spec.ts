import WAWebJS from 'whatsapp-web.js';
import { WaMessage } from '../whatsapp.types';
import { mapChat, mapEdit, mapMe, mapMessage, mapReaction, mapRevoke, orderMessages, serializeWid } from './wwebjs-mappers';

/*
 * The fixtures go through the library's own structures (`new Message(client, pageData)`), so the
 * mappers see exactly what whatsapp-web.js 1.34.7 builds from WhatsApp Web's data.
 */
type Structure<T> = new (client: unknown, data: Record<string, unknown>) => T;
const library = WAWebJS as unknown as {
  Message: Structure<WAWebJS.Message>;
  PrivateChat: Structure<WAWebJS.Chat>;
  GroupChat: Structure<WAWebJS.GroupChat>;
  ClientInfo: Structure<WAWebJS.ClientInfo>;
};
// Not exported by the package's index, but what the client builds for `message_reaction`.
const Reaction = jest.requireActual<Structure<WAWebJS.Reaction>>('whatsapp-web.js/src/structures/Reaction');
const client = {};
const wid = (user: string, server = 'c.us') => ({ server, user, _serialized: `${user}@${server}` });

describe('mapChat', () => {
  it('maps a private chat', () => {
    const chat = new library.PrivateChat(client, {
      id: wid('5511999990000'),
      formattedTitle: 'Alice',
      isGroup: false,
      isReadOnly: false,
      unreadCount: 3,
      t: 1764150000,
      archive: false,
      pin: 1764000000,
      isMuted: false,
      muteExpiration: 0,
    });
    expect(mapChat(chat)).toEqual({
      id: '5511999990000@c.us',
      name: 'Alice',
      isGroup: false,
      unreadCount: 3,
      timestamp: 1764150000,
      archived: false,
      pinned: true,
      raw: {
        id: '5511999990000@c.us',
        name: 'Alice',
        isGroup: false,
        isReadOnly: false,
        unreadCount: 3,
        timestamp: 1764150000,
        archived: false,
        pinned: true,
        isMuted: false,
        muteExpiration: 0,
        lastMessageId: null,
      },
    });
  });

  it('maps a group with its participants, owner and description', () => {
    const chat = new library.GroupChat(client, {
      id: wid('120363041234567890', 'g.us'),
      formattedTitle: 'Team Sales',
      isGroup: true,
      unreadCount: 0,
      t: 1764140000,
      archive: true,
      groupMetadata: {
        owner: wid('5511911110000'),
        desc: 'Weekly numbers',
        creation: 1700000000,
        participants: [
          { id: wid('5511911110000'), isAdmin: true, isSuperAdmin: true },
          { id: wid('5511922220000'), isAdmin: false, isSuperAdmin: false },
        ],
      },
    });
    const mapped = mapChat(chat);
    expect(mapped).toMatchObject({ id: '120363041234567890@g.us', name: 'Team Sales', isGroup: true, archived: true, pinned: false });
    expect(mapped.raw).toMatchObject({
      owner: '5511911110000@c.us',
      description: 'Weekly numbers',
      createdAt: '2023-11-14T22:13:20.000Z',
      participants: [
        { id: '5511911110000@c.us', isAdmin: true, isSuperAdmin: true },
        { id: '5511922220000@c.us', isAdmin: false, isSuperAdmin: false },
      ],
    });
  });

  it('survives missing optional fields: no title, no timestamp, no group metadata', () => {
    const chat = new library.GroupChat(client, { id: wid('120363000000000001', 'g.us'), isGroup: true });
    const mapped = mapChat(chat);
    expect(mapped).toEqual({
      id: '120363000000000001@g.us',
      name: '120363000000000001',
      isGroup: true,
      unreadCount: 0,
      timestamp: null,
      archived: false,
      pinned: false,
      raw: expect.objectContaining({ owner: null, description: null, createdAt: null, participants: [] }),
    });
    expect(() => JSON.stringify(mapped.raw)).not.toThrow();
  });
});

describe('mapMessage', () => {
  const base = { t: 1764150000, ack: 2, from: wid('5511999990000'), to: wid('5511888880000') };

  it('maps an incoming text message of a private chat', () => {
    const message = new library.Message(client, {
      ...base,
      id: { fromMe: false, remote: wid('5511999990000'), id: '3EB0AAA1', _serialized: 'false_5511999990000@c.us_3EB0AAA1' },
      type: 'chat',
      body: 'hi 👋',
    });
    expect(mapMessage(message)).toEqual({
      id: 'false_5511999990000@c.us_3EB0AAA1',
      chatId: '5511999990000@c.us',
      fromMe: false,
      author: null,
      body: 'hi 👋',
      type: 'chat',
      timestamp: 1764150000,
      hasMedia: false,
      ack: 2,
      editedAt: null,
      raw: expect.objectContaining({ body: 'hi 👋', type: 'chat', t: 1764150000, hasQuotedMsg: false, forwardingScore: 0 }),
    });
  });

  it('maps a media message of a group: the caption is the body, the author is the sender', () => {
    const message = new library.Message(client, {
      ...base,
      id: { fromMe: false, remote: '120363041234567890@g.us', id: '3EB0BBB2', _serialized: 'false_120363041234567890@g.us_3EB0BBB2_5511922220000@c.us' },
      from: wid('120363041234567890', 'g.us'),
      author: wid('5511922220000'),
      type: 'image',
      body: '/9j/4AAQSkZJRgABAQ',
      caption: 'Our new stand 📸',
      directPath: '/v/t62.7118-24/123',
      mediaKey: 'abc=',
    });
    expect(mapMessage(message)).toMatchObject({
      id: 'false_120363041234567890@g.us_3EB0BBB2_5511922220000@c.us',
      chatId: '120363041234567890@g.us',
      author: '5511922220000@c.us',
      body: 'Our new stand 📸',
      type: 'image',
      hasMedia: true,
    });
  });

  it('marks a reply and keeps the quoted message in raw', () => {
    const message = new library.Message(client, {
      ...base,
      id: { fromMe: true, remote: wid('5511999990000'), id: '3EB0CCC3', _serialized: 'true_5511999990000@c.us_3EB0CCC3' },
      type: 'chat',
      body: 'yes, 3pm works',
      quotedMsg: { type: 'chat', body: 'can we meet at 3?' },
      quotedStanzaID: '3EB0AAA1',
    });
    const mapped = mapMessage(message);
    expect(mapped).toMatchObject({ fromMe: true, chatId: '5511999990000@c.us', body: 'yes, 3pm works' });
    expect(mapped.raw).toMatchObject({ hasQuotedMsg: true, quotedMsg: { body: 'can we meet at 3?' }, quotedStanzaID: '3EB0AAA1' });
  });

  it('survives missing optional fields', () => {
    const message = new library.Message(client, { id: { fromMe: false, remote: '123@c.us', id: 'X1', _serialized: 'false_123@c.us_X1' } });
    expect(mapMessage(message)).toEqual({
      id: 'false_123@c.us_X1',
      chatId: '123@c.us',
      fromMe: false,
      author: null,
      body: '',
      type: 'unknown',
      timestamp: 0,
      hasMedia: false,
      ack: 0,
      editedAt: null,
      raw: expect.any(Object),
    });
  });
});

describe('message changes', () => {
  const NOW = 1764200000;
  const key = { fromMe: false, remote: wid('5511999990000'), id: '3EB0AAA1', _serialized: 'false_5511999990000@c.us_3EB0AAA1' };

  it('maps editedAt of a fetched message from latestEditSenderTimestampMs', () => {
    const message = new library.Message(client, { id: key, t: 1764150000, type: 'chat', body: 'hi, edited', latestEditSenderTimestampMs: 1764150123456 });
    expect(message.latestEditSenderTimestampMs).toBe(1764150123456);
    expect(mapMessage(message)).toMatchObject({ body: 'hi, edited', editedAt: 1764150123 });
  });

  it('maps message_edit(message, newBody, prevBody): the new text and the edit time, else now', () => {
    const edited = new library.Message(client, { id: key, t: 1764150000, type: 'chat', body: 'new', latestEditSenderTimestampMs: 1764150200999 });
    expect(mapEdit(edited, 'new', NOW)).toEqual({ messageId: key._serialized, chatId: '5511999990000@c.us', body: 'new', editedAt: 1764150200 });
    const noMarker = new library.Message(client, { id: key, t: 1764150000, type: 'chat', body: 'newer' });
    // index.d.ts types newBody as String: a String object is read as its text.
    expect(mapEdit(noMarker, new String('newer'), NOW)).toEqual({ messageId: key._serialized, chatId: '5511999990000@c.us', body: 'newer', editedAt: NOW });
  });

  it('maps message_revoke_everyone(message): the deleted message is protocolMessageKey when given, else the message itself', () => {
    const revoked = new library.Message(client, { id: key, t: 1764150000, type: 'revoked', body: '' });
    expect(mapRevoke(revoked, NOW)).toEqual({ messageId: key._serialized, chatId: '5511999990000@c.us', revokedAt: NOW });
    const target = { fromMe: true, remote: wid('5511999990000'), id: '3EB0ORIG', _serialized: 'true_5511999990000@c.us_3EB0ORIG' };
    const withKey = new library.Message(client, { id: key, t: 1764150000, type: 'revoked', body: '', protocolMessageKey: target });
    expect(mapRevoke(withKey, NOW)).toEqual({ messageId: 'true_5511999990000@c.us_3EB0ORIG', chatId: '5511999990000@c.us', revokedAt: NOW });
  });

  it('maps message_reaction(reaction) as the client builds it: msgId, senderId, reaction, timestamp', () => {
    const data = { msgKey: { _serialized: 'true_5511999990000@c.us_3EB0R1' }, parentMsgKey: key, senderUserJid: '5511977770000@c.us', reactionText: '👍', timestamp: 1764150300.5, orphan: 0, read: false, ack: 1 };
    expect(mapReaction(new Reaction(client, data))).toEqual({
      messageId: key._serialized,
      chatId: '5511999990000@c.us',
      senderId: '5511977770000@c.us',
      emoji: '👍',
      timestamp: 1764150300,
    });
    expect(mapReaction(new Reaction(client, { ...data, reactionText: '' }))?.emoji).toBe('');
    expect(mapReaction(new Reaction(client, { ...data, parentMsgKey: undefined }))).toBeUndefined();
  });

  it('orders fetched messages by (timestamp, id), each id once, the last serialization winning', () => {
    const m = (id: string, timestamp: number, body = id): WaMessage => ({ id, chatId: 'c@c.us', fromMe: false, author: null, body, type: 'chat', timestamp, hasMedia: false, ack: 0, raw: {} });
    const ordered = orderMessages([m('B', 2), m('C', 1), m('A', 2), m('B', 2, 'B again'), m('D', 1)]);
    expect(ordered.map((x) => [x.id, x.body])).toEqual([['C', 'C'], ['D', 'D'], ['A', 'A'], ['B', 'B again']]);
  });
});

describe('mapMe and serializeWid', () => {
  it('maps the logged-in account', () => {
    expect(mapMe(new library.ClientInfo(client, { pushname: 'Shop', wid: wid('5511888880000'), platform: 'android' }))).toEqual({
      id: '5511888880000@c.us',
      pushName: 'Shop',
    });
    expect(mapMe(undefined)).toBeNull();
  });

  it('accepts every shape of wid the page uses', () => {
    expect(serializeWid('1@c.us')).toBe('1@c.us');
    expect(serializeWid({ _serialized: '2@c.us' })).toBe('2@c.us');
    expect(serializeWid({ user: '3', server: 'g.us' })).toBe('3@g.us');
    expect(serializeWid(null)).toBeNull();
    expect(serializeWid({})).toBeNull();
  });
});
