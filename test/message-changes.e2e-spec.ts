import type { MessagePage, MessageView } from '../src/whatsapp/chats/chat.view';
import { SimulatedAccountSpec, accountFromSpec } from '../src/whatsapp/client/simulated/simulated-account';
import type { SimulatedLiveEvent } from '../src/whatsapp/client/simulated/simulated-live';
import type { Socket } from 'socket.io-client';
import { chat, messagesFor } from './support/accounts';
import { EventLog, TestApp, settled } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * Message changes (README.md, "Message changes"): edits, deletions for everyone, reactions and acks,
 * stored live and on sync, `message_update` with the whole view, and changes that arrive before
 * their message kept until it does. Through the simulated provider's `"live"` list and through the
 * test client's `report` (a change with the account left as it is), on a real PostgreSQL.
 */
const BASE = 1_764_150_000;
const NEVER = 3_600_000;
const [M0, M1, M2] = messagesFor('chat1@c.us', 3);
const UNCHANGED = { editedAt: null, revoked: false, revokedAt: null, reactions: [], media: null };

function account(live?: SimulatedLiveEvent[]): SimulatedAccountSpec {
  return { scanAfterMs: NEVER, fetchLatencyMs: 0, chats: [chat('chat1@c.us', 3), chat('chat2@c.us', 2)], ...(live ? { live } : {}) };
}

type Row = { wa_id: string; body: string; type: string; ack: number; edited_at: number | null; revoked: boolean; revoked_at: number | null; raw_body: boolean };

async function rows(t: TestApp, sessionId: string, chatId = 'chat1@c.us'): Promise<Row[]> {
  return t.db.query<Row>(
    `SELECT wa_id, body, type, ack, edited_at::int, revoked, revoked_at::int, raw ? 'body' AS raw_body
     FROM messages WHERE session_id = $1 AND chat_id = $2 ORDER BY timestamp, wa_id`,
    [sessionId, chatId],
  );
}

async function pending(t: TestApp, sessionId: string) {
  return t.db.query<{ message_id: string; chat_id: string; body: string | null; edited_at: number | null; revoked_at: number | null; ack: number | null }>(
    `SELECT message_id, chat_id, body, edited_at::int, revoked_at::int, ack FROM pending_message_changes WHERE session_id = $1 ORDER BY message_id`,
    [sessionId],
  );
}

async function reactions(t: TestApp, sessionId: string) {
  return t.db.query<{ message_id: string; sender_id: string; emoji: string }>(
    `SELECT message_id, sender_id, emoji FROM message_reactions WHERE session_id = $1 ORDER BY message_id, sender_id`,
    [sessionId],
  );
}

/** A stored message as the REST page gives it. */
async function view(t: TestApp, sessionId: string, messageId: string, chatId = 'chat1@c.us'): Promise<MessageView | undefined> {
  const page = await t.request<MessagePage>('GET', `/whatsapp-web/session/${sessionId}/chats/${chatId}/messages?limit=500`);
  return page.body.messages.find((m) => m.id === messageId);
}

/** A message event's view with its reactions in sender order (reactions of one second are ordered by sender). */
function bySender(message: MessageView): MessageView {
  return { ...message, reactions: [...message.reactions].sort((a, b) => a.senderId.localeCompare(b.senderId)) };
}

function messageEvents(log: EventLog): Array<{ event: string; message: MessageView }> {
  return log.events
    .filter((e) => e.event === 'message' || e.event === 'message_update')
    .map((e) => ({ event: e.event, message: bySender((e.payload as { message: MessageView }).message) }));
}

async function sync(t: TestApp, sessionId: string): Promise<void> {
  const answer = await t.request('POST', `/whatsapp-web/session/${sessionId}/sync-chats`);
  expect(answer.status).toBe(200);
}

/** Started, joined while it waits for the scan, then scanned: the socket sees everything after `ready`. */
async function readyAndJoined(t: TestApp, sessionId: string): Promise<{ socket: Socket; log: EventLog }> {
  expect((await t.request('POST', `/whatsapp-web/session/${sessionId}/start`)).status).toBe(201);
  const joined = await t.joined(sessionId);
  t.whatsapp.clientOf(sessionId)!.scan();
  await waitFor(() => joined.log.of<{ status: string }>('session_status').some((e) => e.status === 'ready'), `${sessionId} ready`);
  return joined;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('message changes through the simulated account\'s "live" list', () => {
  const L1 = { id: 'true_chat1@c.us_3EB0LIVE01', fromMe: true, author: null, body: 'live one', type: 'chat', timestamp: BASE + 60, hasMedia: false, ack: 1 };
  const live: SimulatedLiveEvent[] = [
    { afterMs: 0, type: 'message', chatId: 'chat1@c.us', message: L1 },
    { afterMs: 0, type: 'edit', messageId: L1.id, body: 'live one, edited' },
    { afterMs: 0, type: 'reaction', messageId: L1.id, senderId: 's1@c.us', emoji: '👍' },
    { afterMs: 0, type: 'reaction', messageId: L1.id, senderId: 's2@c.us', emoji: '😂' },
    { afterMs: 0, type: 'reaction', messageId: L1.id, senderId: 's1@c.us', emoji: '❤️' },
    { afterMs: 0, type: 'reaction', messageId: L1.id, senderId: 's2@c.us', emoji: '' },
    { afterMs: 0, type: 'ack', messageId: L1.id, ack: 3 },
    { afterMs: 0, type: 'ack', messageId: L1.id, ack: 2 },
    // Messages of the account that no sync has stored yet: kept until they arrive.
    { afterMs: 0, type: 'edit', messageId: M0.id, body: 'message 0, edited' },
    { afterMs: 0, type: 'revoke', messageId: M1.id },
    { afterMs: 0, type: 'ack', messageId: M2.id, ack: 3 },
    { afterMs: 0, type: 'reaction', messageId: M2.id, senderId: 's3@c.us', emoji: '🎉' },
  ];
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: account(live) });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('stores each change as it is played, emits message then one message_update per change that changed something, and keeps the others for the sync', async () => {
    const before = nowSeconds();
    const { socket, log } = await readyAndJoined(t, 'live');
    await waitFor(async () => (await pending(t, 'live')).length === 3 && (await reactions(t, 'live')).length === 2, 'the changes stored');
    await settled(socket);
    const after = nowSeconds();

    const events = messageEvents(log);
    const played = events.map((e) => e.message);
    const editedAt = played[1].editedAt!;
    expect(editedAt).toBeGreaterThanOrEqual(before);
    expect(editedAt).toBeLessThanOrEqual(after);
    const at = (emoji: string, senderId: string) => ({ senderId, emoji, timestamp: expect.any(Number) });
    const base = { ...L1, chatId: 'chat1@c.us', ...UNCHANGED };
    const edited = { ...base, body: 'live one, edited', editedAt };
    expect(events).toEqual([
      { event: 'message', message: base },
      { event: 'message_update', message: edited },
      { event: 'message_update', message: { ...edited, reactions: [at('👍', 's1@c.us')] } },
      { event: 'message_update', message: { ...edited, reactions: [at('👍', 's1@c.us'), at('😂', 's2@c.us')] } },
      { event: 'message_update', message: { ...edited, reactions: [at('❤️', 's1@c.us'), at('😂', 's2@c.us')] } },
      { event: 'message_update', message: { ...edited, reactions: [at('❤️', 's1@c.us')] } },
      // The ack 2 after it changed nothing: the highest ack wins.
      { event: 'message_update', message: { ...edited, reactions: [at('❤️', 's1@c.us')], ack: 3 } },
    ]);
    expect(await rows(t, 'live')).toEqual([
      { wa_id: L1.id, body: 'live one, edited', type: 'chat', ack: 3, edited_at: editedAt, revoked: false, revoked_at: null, raw_body: true },
    ]);
    const kept = await pending(t, 'live');
    expect(kept).toEqual([
      { message_id: M0.id, chat_id: 'chat1@c.us', body: 'message 0, edited', edited_at: expect.any(Number), revoked_at: null, ack: null },
      { message_id: M2.id, chat_id: 'chat1@c.us', body: null, edited_at: null, revoked_at: null, ack: 3 },
      { message_id: M1.id, chat_id: 'chat1@c.us', body: null, edited_at: null, revoked_at: expect.any(Number), ack: null },
    ]);
    expect(await reactions(t, 'live')).toEqual([
      { message_id: M2.id, sender_id: 's3@c.us', emoji: '🎉' },
      { message_id: L1.id, sender_id: 's1@c.us', emoji: '❤️' },
    ]);

    // What was played is part of the account: the sync stores it, and applies what was kept.
    await sync(t, 'live');
    const m0EditedAt = kept[0].edited_at;
    const revokedAt = kept[2].revoked_at;
    expect(await rows(t, 'live')).toEqual([
      { wa_id: M0.id, body: 'message 0, edited', type: 'chat', ack: 0, edited_at: m0EditedAt, revoked: false, revoked_at: null, raw_body: true },
      // Fetched in its deleted state (type revoked, no text), as whatsapp-web.js shows it.
      { wa_id: M1.id, body: '', type: 'revoked', ack: 2, edited_at: null, revoked: true, revoked_at: revokedAt, raw_body: false },
      { wa_id: M2.id, body: M2.body, type: 'chat', ack: 3, edited_at: null, revoked: false, revoked_at: null, raw_body: true },
      { wa_id: L1.id, body: 'live one, edited', type: 'chat', ack: 3, edited_at: editedAt, revoked: false, revoked_at: null, raw_body: true },
    ]);
    expect(await pending(t, 'live')).toEqual([]);
    expect(await view(t, 'live', M2.id)).toEqual({ ...M2, chatId: 'chat1@c.us', ack: 3, ...UNCHANGED, reactions: [at('🎉', 's3@c.us')] });
  });
});

describe('message changes reported by the provider', () => {
  let t: TestApp;
  let kept: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: account() });
    kept = await TestApp.start({ account: account(), env: { KEEP_REVOKED_BODY: 'true' } });
  });

  afterAll(async () => {
    await kept?.close();
    await t?.close();
  });

  const client = (app: TestApp, sessionId: string) => app.whatsapp.clientOf(sessionId)!;

  it('a change before the message is stored is kept, applied when the sync stores it, and a later sync does not undo it', async () => {
    const { socket, log } = await readyAndJoined(t, 'early');
    client(t, 'early').report((l) => {
      l.onMessageEdit({ messageId: M0.id, chatId: 'chat1@c.us', body: 'edited before the sync', editedAt: BASE + 100 });
      l.onMessageRevoke({ messageId: M1.id, chatId: 'chat1@c.us', revokedAt: BASE + 200 });
      l.onMessageAck(M2.id, 'chat1@c.us', 3);
      l.onMessageReaction({ messageId: M0.id, chatId: 'chat1@c.us', senderId: 's1@c.us', emoji: '👀', timestamp: BASE + 300 });
    });
    await waitFor(async () => (await pending(t, 'early')).length === 3 && (await reactions(t, 'early')).length === 1, 'the changes kept');
    expect(await rows(t, 'early')).toEqual([]);

    await sync(t, 'early');
    // The account was not changed: only what was kept can make these rows differ from a plain sync.
    const expected = [
      { wa_id: M0.id, body: 'edited before the sync', type: 'chat', ack: 0, edited_at: BASE + 100, revoked: false, revoked_at: null, raw_body: true },
      { wa_id: M1.id, body: '', type: 'chat', ack: 2, edited_at: null, revoked: true, revoked_at: BASE + 200, raw_body: false },
      { wa_id: M2.id, body: M2.body, type: 'chat', ack: 3, edited_at: null, revoked: false, revoked_at: null, raw_body: true },
    ];
    expect(await rows(t, 'early')).toEqual(expected);
    expect(await pending(t, 'early')).toEqual([]);
    expect(await view(t, 'early', M0.id)).toEqual({
      ...M0,
      chatId: 'chat1@c.us',
      body: 'edited before the sync',
      editedAt: BASE + 100,
      revoked: false,
      revokedAt: null,
      reactions: [{ senderId: 's1@c.us', emoji: '👀', timestamp: BASE + 300 }],
      media: null,
    });

    // The account still has the old texts and acks: a re-sync rewrites nothing.
    const versions = () => t.db.query('SELECT wa_id, xmin::text FROM messages WHERE session_id = $1 ORDER BY wa_id', ['early']);
    const before = await versions();
    await sync(t, 'early');
    expect(await rows(t, 'early')).toEqual(expected);
    expect(await versions()).toEqual(before);
    await settled(socket);
    expect(log.of('message_update')).toEqual([]);
  });

  it('a change before a live message arrives shows in its `message` event', async () => {
    const { log } = await readyAndJoined(t, 'early-live');
    const message = { ...M0, id: 'false_chat9@c.us_3EB0NEW', chatId: 'chat9@c.us', raw: {} };
    client(t, 'early-live').report((l) => l.onMessageEdit({ messageId: message.id, chatId: 'chat9@c.us', body: 'edited first', editedAt: BASE + 5 }));
    await waitFor(async () => (await pending(t, 'early-live')).length === 1, 'the edit kept');
    client(t, 'early-live').receiveMessage(message);
    await log.waitFor('message');
    expect(log.of('message')).toEqual([
      { sessionId: 'early-live', message: { ...M0, id: message.id, chatId: 'chat9@c.us', body: 'edited first', ...UNCHANGED, editedAt: BASE + 5 } },
    ]);
    expect(await pending(t, 'early-live')).toEqual([]);
  });

  it('a deletion for everyone keeps the row without its text (body and raw), and a re-sync of the old text does not bring it back', async () => {
    const { socket, log } = await readyAndJoined(t, 'revoke');
    await sync(t, 'revoke');
    client(t, 'revoke').report((l) => l.onMessageRevoke({ messageId: M0.id, chatId: 'chat1@c.us', revokedAt: BASE + 500 }));
    await log.waitFor('message_update');
    const revoked = { ...M0, chatId: 'chat1@c.us', body: '', ...UNCHANGED, revoked: true, revokedAt: BASE + 500 };
    expect(log.of('message_update')).toEqual([{ sessionId: 'revoke', message: revoked }]);
    const [row] = await t.db.query<{ body: string; raw: Record<string, unknown> }>('SELECT body, raw FROM messages WHERE session_id = $1 AND wa_id = $2', ['revoke', M0.id]);
    expect(row.body).toBe('');
    expect(JSON.stringify(row.raw)).not.toContain(M0.body);
    expect(row.raw).toMatchObject({ id: M0.id, type: 'chat' });

    // A second deletion changes nothing; a sync of the account (which still shows the text) neither.
    client(t, 'revoke').report((l) => l.onMessageRevoke({ messageId: M0.id, chatId: 'chat1@c.us', revokedAt: BASE + 600 }));
    await sync(t, 'revoke');
    expect((await rows(t, 'revoke'))[0]).toEqual({ wa_id: M0.id, body: '', type: 'chat', ack: 0, edited_at: null, revoked: true, revoked_at: BASE + 500, raw_body: false });
    expect(await view(t, 'revoke', M0.id)).toEqual(revoked);
    await settled(socket);
    expect(log.of('message_update')).toHaveLength(1);
  });

  it('with KEEP_REVOKED_BODY=true the text stays, also when a sync fetches the message in its deleted state', async () => {
    const { log } = await readyAndJoined(kept, 'keep');
    await sync(kept, 'keep');
    client(kept, 'keep').report((l) => l.onMessageRevoke({ messageId: M0.id, chatId: 'chat1@c.us', revokedAt: BASE + 500 }));
    await log.waitFor('message_update');
    expect(log.of('message_update')).toEqual([{ sessionId: 'keep', message: { ...M0, chatId: 'chat1@c.us', ...UNCHANGED, revoked: true, revokedAt: BASE + 500 } }]);

    const spec = account();
    spec.chats[0].messages = spec.chats[0].messages.map((m) => (m.id === M0.id ? { ...m, type: 'revoked', body: '' } : m));
    kept.whatsapp.account = accountFromSpec(spec);
    await sync(kept, 'keep');
    expect((await rows(kept, 'keep'))[0]).toEqual({ wa_id: M0.id, body: M0.body, type: 'chat', ack: 0, edited_at: null, revoked: true, revoked_at: BASE + 500, raw_body: true });
  });

  it('the highest ack wins, live and on sync', async () => {
    const { log } = await readyAndJoined(t, 'acks');
    await sync(t, 'acks');
    expect(M1.ack).toBe(2);
    client(t, 'acks').report((l) => {
      l.onMessageAck(M1.id, 'chat1@c.us', 3);
      l.onMessageAck(M1.id, 'chat1@c.us', 1);
      l.onMessageAck(M1.id, 'chat1@c.us', 4);
    });
    await log.waitFor('message_update', 2);
    expect(log.of<{ message: MessageView }>('message_update').map((e) => e.message.ack)).toEqual([3, 4]);
    await sync(t, 'acks');
    expect((await rows(t, 'acks'))[1]).toMatchObject({ wa_id: M1.id, ack: 4 });
  });

  it('a sync that fetches a changed message updates it: an edited text with its edit time, a deletion', async () => {
    await readyAndJoined(t, 'resync');
    await sync(t, 'resync');
    const spec = account();
    spec.chats[0].messages = spec.chats[0].messages.map((m) =>
      m.id === M0.id ? { ...m, body: 'edited on the phone', editedAt: BASE + 700 } : m.id === M1.id ? { ...m, type: 'revoked', body: '' } : m,
    );
    t.whatsapp.account = accountFromSpec(spec);
    const before = nowSeconds();
    await sync(t, 'resync');
    const [m0, m1, m2] = await rows(t, 'resync');
    expect(m0).toEqual({ wa_id: M0.id, body: 'edited on the phone', type: 'chat', ack: 0, edited_at: BASE + 700, revoked: false, revoked_at: null, raw_body: true });
    expect(m1).toEqual({ wa_id: M1.id, body: '', type: 'chat', ack: 2, edited_at: null, revoked: true, revoked_at: expect.any(Number), raw_body: false });
    expect(m1.revoked_at).toBeGreaterThanOrEqual(before);
    expect(m2).toMatchObject({ wa_id: M2.id, body: M2.body, revoked: false });
    t.whatsapp.account = accountFromSpec(account());
  });

  it('DELETE ?purge=true also removes the reactions and the kept changes, of that session only', async () => {
    for (const id of ['purged', 'other']) {
      await readyAndJoined(t, id);
      client(t, id).report((l) => {
        l.onMessageReaction({ messageId: M0.id, chatId: 'chat1@c.us', senderId: 's1@c.us', emoji: '👍', timestamp: BASE });
        l.onMessageEdit({ messageId: M1.id, chatId: 'chat1@c.us', body: 'x', editedAt: BASE });
      });
      await waitFor(async () => (await pending(t, id)).length === 1 && (await reactions(t, id)).length === 1, `${id}: changes kept`);
    }
    expect((await t.request('DELETE', '/whatsapp-web/session/purged?purge=true')).status).toBe(200);
    expect(await pending(t, 'purged')).toEqual([]);
    expect(await reactions(t, 'purged')).toEqual([]);
    expect(await pending(t, 'other')).toHaveLength(1);
    expect(await reactions(t, 'other')).toHaveLength(1);
  });
});
