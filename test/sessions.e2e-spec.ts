import { hostname } from 'node:os';
import { io, Socket } from 'socket.io-client';
import type { MessageView } from '../src/whatsapp/chats/chat.view';
import { WaMessage } from '../src/whatsapp/client/whatsapp.types';
import { SimulatedAccountSpec, accountFromSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { SimulatedWhatsappClient } from '../src/whatsapp/client/simulated/simulated-whatsapp.client';
import { chat, messagesFor, seedAccount } from './support/accounts';
import { EventLog, TestApp, emitWithAck, settled } from './support/test-app';
import { gate, waitFor } from './support/wait';

/**
 * The session lifecycle of README.md (REST and Socket.IO), live messages, message pages, health and
 * the API key, against the real server and database.
 */

/** Nobody scans unless a test does: `t.whatsapp.clientOf(id)!.scan()`. */
const NEVER_SCANNED = 10 * 60_000;
const JOIN_PAYLOAD_ERROR = 'payload must be {"sessionId": "<1-64 of A-Z a-z 0-9 _ ->"}';

interface SessionBody {
  sessionId: string;
  status: string;
  me: { id: string; pushName: string | null } | null;
  error: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  owner: string | null;
}

/** A message as the API answers it. */
type MessageBody = MessageView;
/** The change fields of a message that was never edited, deleted or reacted to. */
// Media downloads are off here: these tests are about the messages (test/media.e2e-spec.ts has the media).
const UNCHANGED = { editedAt: null, revoked: false, revokedAt: null, reactions: [], media: null };

interface MessagePage {
  messages: MessageBody[];
  nextCursor: string | null;
}

const account = (): SimulatedAccountSpec => ({ ...seedAccount(), scanAfterMs: NEVER_SCANNED });
const sessionView = (sessionId: string, status: string, me: SessionBody['me'] = null): SessionBody => ({
  sessionId,
  status,
  me,
  error: null,
  createdAt: expect.any(String),
  updatedAt: expect.any(String),
  // This process's instance (INSTANCE_ID's default) while it runs the session; nobody once stopped.
  owner: status === 'stopped' ? null : `${hostname()}-${process.pid}`,
});
const simulatedMe = (sessionId: string) => ({ id: `${sessionId.length}0000000000@c.us`, pushName: `Simulated ${sessionId}` });
const statuses = (log: EventLog) => log.of<{ status: string }>('session_status').map((e) => e.status);

describe('sessions', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: account(), env: { MEDIA_DOWNLOAD: 'off' } });
  });
  afterEach(() => {
    jest.restoreAllMocks();
    t.whatsapp.account = accountFromSpec(account());
  });
  afterAll(() => t.close());

  async function start(sessionId: string): Promise<SessionBody> {
    const answer = await t.request<SessionBody>('POST', `/whatsapp-web/session/${sessionId}/start`);
    expect(answer.status).toBe(201);
    return answer.body;
  }

  async function statusOf(sessionId: string): Promise<string | undefined> {
    return (await t.request<SessionBody>('GET', `/whatsapp-web/session/${sessionId}`)).body.status;
  }

  /**
   * Starts, scans the QR, and waits until the session is ready and its account (`me`) is stored:
   * `me` is written to the row just after `ready` is reported.
   */
  async function ready(sessionId: string): Promise<void> {
    await start(sessionId);
    t.whatsapp.clientOf(sessionId)!.scan();
    await waitFor(async () => {
      const { body } = await t.request<SessionBody>('GET', `/whatsapp-web/session/${sessionId}`);
      return body.status === 'ready' && body.me !== null;
    }, `${sessionId} ready`);
  }

  async function sync(sessionId: string): Promise<void> {
    const answer = await t.request('POST', `/whatsapp-web/session/${sessionId}/sync-chats`);
    expect(answer.status).toBe(200);
  }

  describe('REST lifecycle', () => {
    it('POST start answers 201 {sessionId, status} and the session waits for a QR scan', async () => {
      const answer = await t.request<SessionBody>('POST', '/whatsapp-web/session/st-new/start');

      expect({ status: answer.status, body: answer.body }).toEqual({ status: 201, body: sessionView('st-new', 'qr') });
      expect(await t.db.query('SELECT session_id, status, me, last_error FROM sessions WHERE session_id = $1', ['st-new'])).toEqual([
        { session_id: 'st-new', status: 'qr', me: null, last_error: null },
      ]);
    });

    it('a second start returns the running session as is and creates no second client', async () => {
      const create = jest.spyOn(t.whatsapp, 'create');
      const first = await start('st-twice');
      const client = t.whatsapp.clientOf('st-twice');
      const qr = await t.request('GET', '/whatsapp-web/session/st-twice/qr');
      const { socket, log } = await t.joined('st-twice');
      await log.waitFor('qr');

      const second = await start('st-twice');
      await settled(socket);

      expect(second).toEqual({ ...first, updatedAt: expect.any(String) });
      expect(second.status).toBe('qr');
      expect(create).toHaveBeenCalledTimes(1);
      expect(t.whatsapp.clientOf('st-twice')).toBe(client);
      expect(await t.request('GET', '/whatsapp-web/session/st-twice/qr')).toMatchObject({ status: 200, body: qr.body });
      expect(statuses(log)).toEqual(['qr']);
      expect(await t.db.counts('st-twice')).toEqual({ sessions: 1, chats: 0, messages: 0, sync_runs: 0 });
    });

    it('two concurrent starts create one client and both answer 201 with the same session', async () => {
      const create = jest.spyOn(t.whatsapp, 'create');
      const [a, b] = await Promise.all([
        t.request<SessionBody>('POST', '/whatsapp-web/session/st-race/start'),
        t.request<SessionBody>('POST', '/whatsapp-web/session/st-race/start'),
      ]);

      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.body.sessionId).toBe('st-race');
      expect(b.body.sessionId).toBe('st-race');
      expect(create.mock.calls.filter(([id]) => id === 'st-race')).toHaveLength(1);
      await waitFor(async () => (await statusOf('st-race')) === 'qr', 'st-race waiting for its scan');
    });

    it('a start of a ready session returns it as it is', async () => {
      await ready('st-ready-again');
      const create = jest.spyOn(t.whatsapp, 'create');

      expect(await start('st-ready-again')).toEqual(sessionView('st-ready-again', 'ready', simulatedMe('st-ready-again')));
      expect(create).not.toHaveBeenCalled();
    });

    it('GET sessions lists the sessions with their status', async () => {
      await start('st-list-a');
      await ready('st-list-b');

      const { status, body } = await t.request<SessionBody[]>('GET', '/whatsapp-web/sessions');

      expect(status).toBe(200);
      expect(body.filter((s) => s.sessionId.startsWith('st-list-'))).toEqual([
        sessionView('st-list-a', 'qr'),
        sessionView('st-list-b', 'ready', simulatedMe('st-list-b')),
      ]);
      expect(new Set(body.map((s) => s.sessionId)).size).toBe(body.length);
    });

    it('GET session/:id answers 200 with the session, and 404 for one never started', async () => {
      await ready('st-get');

      const answer = await t.request<SessionBody>('GET', '/whatsapp-web/session/st-get');
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: sessionView('st-get', 'ready', simulatedMe('st-get')) });

      const unknown = await t.request('GET', '/whatsapp-web/session/st-never');
      expect({ status: unknown.status, body: unknown.body }).toEqual({
        status: 404,
        body: { statusCode: 404, error: 'Not Found', message: 'Session st-never not found' },
      });
    });

    it('GET qr answers {qr, dataUrl} with a PNG data URL while the session waits for a scan', async () => {
      await start('st-qr');
      const answer = await t.request<{ qr: string; dataUrl: string }>('GET', '/whatsapp-web/session/st-qr/qr');

      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 200,
        body: { qr: expect.any(String), dataUrl: expect.stringMatching(/^data:image\/png;base64,[A-Za-z0-9+/]+={0,2}$/) },
      });
      expect(answer.body.qr.length).toBeGreaterThan(0);
      const png = Buffer.from(answer.body.dataUrl.slice('data:image/png;base64,'.length), 'base64');
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

      t.whatsapp.clientOf('st-qr')!.scan();
      const after = await t.request('GET', '/whatsapp-web/session/st-qr/qr');
      expect({ status: after.status, body: after.body }).toEqual({
        status: 409,
        body: { statusCode: 409, error: 'Conflict', message: 'Session st-qr is not waiting for a QR scan (status: ready)' },
      });
    });

    it('stop answers 200 stopped; the next start keeps the login and reaches ready without a QR', async () => {
      await ready('st-stop');
      const stoppedClient = t.whatsapp.clientOf('st-stop');
      const { socket, log } = await t.joined('st-stop');

      const stopped = await t.request<SessionBody>('POST', '/whatsapp-web/session/st-stop/stop');
      expect({ status: stopped.status, body: stopped.body }).toEqual({ status: 200, body: sessionView('st-stop', 'stopped', simulatedMe('st-stop')) });
      expect(await t.db.query('SELECT status FROM sessions WHERE session_id = $1', ['st-stop'])).toEqual([{ status: 'stopped' }]);
      const qr = await t.request('GET', '/whatsapp-web/session/st-stop/qr');
      expect({ status: qr.status, body: qr.body }).toEqual({
        status: 409,
        body: { statusCode: 409, error: 'Conflict', message: 'Session st-stop is not waiting for a QR scan (status: stopped)' },
      });
      const again = await t.request<SessionBody>('POST', '/whatsapp-web/session/st-stop/stop');
      expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: sessionView('st-stop', 'stopped', simulatedMe('st-stop')) });

      const restarted = await start('st-stop');
      await waitFor(() => statuses(log).includes('ready') && statuses(log).lastIndexOf('ready') > statuses(log).indexOf('stopped'), 'ready again');
      await settled(socket);

      expect(restarted).toEqual(sessionView('st-stop', 'ready', simulatedMe('st-stop')));
      expect(statuses(log).slice(0, 2)).toEqual(['ready', 'stopped']);
      expect(statuses(log).slice(-2)).toEqual(['authenticated', 'ready']);
      expect(log.of('qr')).toEqual([]);
      expect(await statusOf('st-stop')).toBe('ready');
      expect(t.whatsapp.clientOf('st-stop')).not.toBe(stoppedClient);
    });

    it('a socket in the room sees every status change of a restart: stopped, starting, authenticated, ready', async () => {
      await ready('st-restart');
      const { socket, log } = await t.joined('st-restart');
      await log.waitFor('session_status');
      await t.request('POST', '/whatsapp-web/session/st-restart/stop');
      await start('st-restart');
      await waitFor(() => statuses(log).filter((s) => s === 'ready').length === 2, 'ready again');
      await settled(socket);

      expect(log.of('session_status')).toEqual([
        { sessionId: 'st-restart', status: 'ready' },
        { sessionId: 'st-restart', status: 'stopped' },
        { sessionId: 'st-restart', status: 'starting' },
        { sessionId: 'st-restart', status: 'authenticated' },
        { sessionId: 'st-restart', status: 'ready' },
      ]);
    });

    it('stop of a session never started is a 404', async () => {
      const answer = await t.request('POST', '/whatsapp-web/session/st-stop-never/stop');
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 404,
        body: { statusCode: 404, error: 'Not Found', message: 'Session st-stop-never not found' },
      });
    });

    it('DELETE without purge forgets the session and its login but keeps its chats, messages and runs', async () => {
      await ready('st-del');
      await sync('st-del');
      expect(await t.db.counts('st-del')).toEqual({ sessions: 1, chats: 3, messages: 125, sync_runs: 1 });

      const answer = await t.request('DELETE', '/whatsapp-web/session/st-del');

      expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { sessionId: 'st-del', deleted: true, purged: false } });
      expect(await t.db.counts('st-del')).toEqual({ sessions: 0, chats: 3, messages: 125, sync_runs: 1 });
      expect((await t.request('GET', '/whatsapp-web/session/st-del')).status).toBe(404);
      // The login is gone: a new start asks for a scan again.
      expect(await start('st-del')).toEqual(sessionView('st-del', 'qr'));
    });

    it('DELETE ?purge=true also removes the session\'s chats, messages and sync runs, and nothing of another session', async () => {
      await ready('st-purge');
      await ready('st-keep');
      await sync('st-purge');
      await sync('st-keep');
      await sync('st-purge');
      const kept = await t.db.counts('st-keep');
      expect(kept).toEqual({ sessions: 1, chats: 3, messages: 125, sync_runs: 1 });
      expect(await t.db.counts('st-purge')).toEqual({ sessions: 1, chats: 3, messages: 125, sync_runs: 2 });

      const answer = await t.request('DELETE', '/whatsapp-web/session/st-purge?purge=true');

      expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { sessionId: 'st-purge', deleted: true, purged: true } });
      expect(await t.db.counts('st-purge')).toEqual({ sessions: 0, chats: 0, messages: 0, sync_runs: 0 });
      expect(await t.db.counts('st-keep')).toEqual(kept);
      expect(await statusOf('st-keep')).toBe('ready');
    });

    it('DELETE of a session never started is a 404', async () => {
      const answer = await t.request('DELETE', '/whatsapp-web/session/st-del-never?purge=true');
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 404,
        body: { statusCode: 404, error: 'Not Found', message: 'Session st-del-never not found' },
      });
    });
  });

  describe('Socket.IO', () => {
    it('a socket that joined before the scan receives session_status starting, qr, authenticated, ready in order, and the qr', async () => {
      // Hold the client's start so that the socket can join while the session is `starting`.
      const hold = gate();
      const realCreate = t.whatsapp.create.bind(t.whatsapp);
      const create = jest.spyOn(t.whatsapp, 'create').mockImplementation((sessionId, listener) => {
        const client = realCreate(sessionId, listener);
        const realStart = client.start.bind(client);
        client.start = async () => {
          await hold.promise;
          await realStart();
        };
        return client;
      });
      const started = t.request<SessionBody>('POST', '/whatsapp-web/session/so-order/start');
      await waitFor(() => create.mock.calls.length === 1, 'the client to be created');
      const { socket, log } = await t.joined('so-order');
      await log.waitFor('session_status');

      hold.open();
      expect((await started).body).toEqual(sessionView('so-order', 'qr'));
      await log.waitFor('qr');
      const rest = await t.request<{ qr: string; dataUrl: string }>('GET', '/whatsapp-web/session/so-order/qr');
      (t.whatsapp.clientOf('so-order') as SimulatedWhatsappClient).scan();
      await waitFor(() => statuses(log).includes('ready'), 'ready');
      await settled(socket);

      expect(log.events).toEqual([
        { event: 'session_status', payload: { sessionId: 'so-order', status: 'starting' } },
        { event: 'session_status', payload: { sessionId: 'so-order', status: 'qr' } },
        { event: 'qr', payload: { sessionId: 'so-order', qr: rest.body.qr, dataUrl: rest.body.dataUrl } },
        { event: 'session_status', payload: { sessionId: 'so-order', status: 'authenticated' } },
        { event: 'session_status', payload: { sessionId: 'so-order', status: 'ready' } },
      ]);
      expect(rest.body.dataUrl.startsWith('data:image/png;base64,')).toBe(true);
    });

    it('a socket that joins while the session waits for a scan gets its status and the current qr at once, then the rest', async () => {
      await start('so-late-qr');
      const rest = await t.request<{ qr: string; dataUrl: string }>('GET', '/whatsapp-web/session/so-late-qr/qr');
      const { socket, log } = await t.joined('so-late-qr');
      await log.waitFor('qr');
      expect(log.of('session_status')).toEqual([{ sessionId: 'so-late-qr', status: 'qr' }]);

      t.whatsapp.clientOf('so-late-qr')!.scan();
      await waitFor(() => statuses(log).includes('ready'), 'ready');
      await settled(socket);

      expect(statuses(log)).toEqual(['qr', 'authenticated', 'ready']);
      expect(log.of('qr')).toEqual([{ sessionId: 'so-late-qr', qr: rest.body.qr, dataUrl: rest.body.dataUrl }]);
      expect(log.of('qr')[0]).toEqual({ sessionId: 'so-late-qr', qr: expect.any(String), dataUrl: expect.stringMatching(/^data:image\/png;base64,/) });
    });

    it('right after a join the socket receives the current session_status, and nothing else', async () => {
      await ready('so-now');
      const { socket, log } = await t.joined('so-now');
      await log.waitFor('session_status');
      await settled(socket);

      expect(log.events).toEqual([{ event: 'session_status', payload: { sessionId: 'so-now', status: 'ready' } }]);
    });

    it('a stopped session replays stopped to a socket that joins', async () => {
      await ready('so-stopped');
      await t.request('POST', '/whatsapp-web/session/so-stopped/stop');
      const { socket, log } = await t.joined('so-stopped');
      await log.waitFor('session_status');
      await settled(socket);

      expect(log.events).toEqual([{ event: 'session_status', payload: { sessionId: 'so-stopped', status: 'stopped' } }]);
    });

    it('DELETE sends session_status stopped to the room; a join afterwards is refused', async () => {
      await ready('so-deleted');
      const { socket, log } = await t.joined('so-deleted');
      await log.waitFor('session_status');

      const answer = await t.request('DELETE', '/whatsapp-web/session/so-deleted');
      expect(answer.status).toBe(200);
      await log.waitFor('session_status', 2);
      await settled(socket);

      expect(log.events).toEqual([
        { event: 'session_status', payload: { sessionId: 'so-deleted', status: 'ready' } },
        { event: 'session_status', payload: { sessionId: 'so-deleted', status: 'stopped' } },
      ]);
      expect(await emitWithAck(socket, 'join-session', { sessionId: 'so-deleted' })).toEqual({ ok: false, error: 'session so-deleted was never started' });
    });

    it('a disconnection is sent as session_status with its reason', async () => {
      await ready('so-drop');
      const { log } = await t.joined('so-drop');
      t.whatsapp.clientOf('so-drop')!.disconnect('phone offline');
      await log.waitFor('session_status', 2);

      expect(log.of('session_status')).toEqual([
        { sessionId: 'so-drop', status: 'ready' },
        { sessionId: 'so-drop', status: 'disconnected', error: 'phone offline' },
      ]);
      expect((await t.request<SessionBody>('GET', '/whatsapp-web/session/so-drop')).body).toEqual({
        ...sessionView('so-drop', 'disconnected', simulatedMe('so-drop')),
        error: 'phone offline',
      });
    });

    it('join-session acknowledges {ok: true} for a started session', async () => {
      await start('so-ack');
      const socket = await t.socket();
      expect(await emitWithAck(socket, 'join-session', { sessionId: 'so-ack' })).toEqual({ ok: true });
      expect(await emitWithAck(socket, 'join-session', { sessionId: 'so-ack' })).toEqual({ ok: true });
    });

    it.each<[string, unknown[]]>([
      ['no payload', []],
      ['null', [null]],
      ['a string', ['so-ack-bad']],
      ['a number', [42]],
      ['a boolean', [true]],
      ['an array', [[{ sessionId: 'so-ack-bad' }]]],
      ['an object without sessionId', [{ session: 'so-ack-bad' }]],
      ['a numeric sessionId', [{ sessionId: 12345 }]],
      ['an empty sessionId', [{ sessionId: '' }]],
      ['an invalid sessionId', [{ sessionId: 'bad id' }]],
      ['a sessionId with a dot', [{ sessionId: 'a.b' }]],
      ['a 65-character sessionId', [{ sessionId: 'a'.repeat(65) }]],
      ['a 100 KB sessionId', [{ sessionId: 'a'.repeat(100 * 1024) }]],
    ])('join-session with %s acknowledges {ok: false, error}', async (_what, args) => {
      await start('so-ack-bad');
      const socket = await t.socket();
      const log = new EventLog(socket);

      expect(await emitWithAck(socket, 'join-session', ...args)).toEqual({ ok: false, error: JOIN_PAYLOAD_ERROR });
      await settled(socket);
      expect(log.events).toEqual([]);
      expect(socket.connected).toBe(true);
    });

    it('join-session of a session never started acknowledges {ok: false, error}, and joins nothing', async () => {
      const socket = await t.socket();
      const log = new EventLog(socket);

      expect(await emitWithAck(socket, 'join-session', { sessionId: 'so-never' })).toEqual({ ok: false, error: 'session so-never was never started' });
      await start('so-never');
      t.whatsapp.clientOf('so-never')!.scan();
      await waitFor(async () => (await statusOf('so-never')) === 'ready', 'so-never ready');
      await settled(socket);

      expect(log.events).toEqual([]);
    });

    it('leave-session stops the events of that session', async () => {
      await start('so-leave');
      const { socket, log } = await t.joined('so-leave');
      await log.waitFor('qr');
      expect(await emitWithAck(socket, 'leave-session', { sessionId: 'so-leave' })).toEqual({ ok: true });
      const seen = log.events.length;

      t.whatsapp.clientOf('so-leave')!.scan();
      await waitFor(async () => (await statusOf('so-leave')) === 'ready', 'so-leave ready');
      await settled(socket);

      expect(log.events).toHaveLength(seen);
      expect(await emitWithAck(socket, 'leave-session', 'so-leave')).toEqual({ ok: false, error: JOIN_PAYLOAD_ERROR });
    });
  });

  describe('live messages', () => {
    const live = (overrides: Partial<WaMessage> = {}): WaMessage => {
      const base = {
        id: 'false_4915551234567@c.us_3EB0LIVE000001',
        chatId: '4915551234567@c.us',
        fromMe: false,
        author: null,
        body: 'a live hello ✓',
        type: 'chat',
        timestamp: 1_764_151_000,
        hasMedia: false,
        ack: 1,
        ...overrides,
      };
      return { ...base, raw: { ...base, from: base.chatId, to: 'me', _data: { notifyName: 'Eve' } } };
    };
    const view = ({ raw: _raw, ...message }: WaMessage) => ({ ...message, ...UNCHANGED });

    it('stores a live message and emits it as `message` {sessionId, message} to the session\'s room only', async () => {
      await ready('lm-a');
      await ready('lm-b');
      const a = await t.joined('lm-a');
      const b = await t.joined('lm-b');
      const message = live();

      t.whatsapp.clientOf('lm-a')!.receiveMessage(message);
      await a.log.waitFor('message');
      await settled(b.socket);

      expect(a.log.of('message')).toEqual([
        {
          sessionId: 'lm-a',
          message: {
            id: 'false_4915551234567@c.us_3EB0LIVE000001',
            chatId: '4915551234567@c.us',
            fromMe: false,
            author: null,
            body: 'a live hello ✓',
            type: 'chat',
            timestamp: 1764151000,
            hasMedia: false,
            ack: 1,
            editedAt: null,
            revoked: false,
            revokedAt: null,
            reactions: [],
            media: null,
          },
        },
      ]);
      expect(b.log.of('message')).toEqual([]);
      expect(
        await t.db.query(
          `SELECT session_id, wa_id, chat_id, from_me, author, body, type, timestamp, has_media, ack, raw FROM messages WHERE session_id = $1`,
          ['lm-a'],
        ),
      ).toEqual([
        {
          session_id: 'lm-a',
          wa_id: 'false_4915551234567@c.us_3EB0LIVE000001',
          chat_id: '4915551234567@c.us',
          from_me: false,
          author: null,
          body: 'a live hello ✓',
          type: 'chat',
          timestamp: '1764151000',
          has_media: false,
          ack: 1,
          raw: message.raw,
        },
      ]);
      expect(await t.db.counts('lm-b')).toEqual({ sessions: 1, chats: 0, messages: 0, sync_runs: 0 });
      const page = await t.request<MessagePage>('GET', '/whatsapp-web/session/lm-a/chats/4915551234567@c.us/messages');
      expect({ status: page.status, body: page.body }).toEqual({ status: 200, body: { messages: [view(message)], nextCursor: null } });
    });

    it('stores a group message with its author and media flag, and a repeat of it once', async () => {
      await ready('lm-group');
      const { log } = await t.joined('lm-group');
      const message = live({
        id: 'false_120363000000000001@g.us_3EB0LIVE000002_15551230000@c.us',
        chatId: '120363000000000001@g.us',
        author: '15551230000@c.us',
        body: 'photo caption',
        type: 'image',
        hasMedia: true,
        ack: 0,
      });

      t.whatsapp.clientOf('lm-group')!.receiveMessage(message);
      await log.waitFor('message');
      t.whatsapp.clientOf('lm-group')!.receiveMessage({ ...message, ack: 3, raw: { ...message.raw, ack: 3 } });
      await log.waitFor('message', 2);

      expect(log.of('message')).toEqual([
        { sessionId: 'lm-group', message: view(message) },
        { sessionId: 'lm-group', message: { ...view(message), ack: 3 } },
      ]);
      expect(await t.db.query('SELECT wa_id, chat_id, author, type, has_media, ack FROM messages WHERE session_id = $1', ['lm-group'])).toEqual([
        { wa_id: message.id, chat_id: '120363000000000001@g.us', author: '15551230000@c.us', type: 'image', has_media: true, ack: 3 },
      ]);
      expect(await t.db.query('SELECT wa_id, is_group FROM chats WHERE session_id = $1', ['lm-group'])).toEqual([
        { wa_id: '120363000000000001@g.us', is_group: true },
      ]);
    });

    it('a live message in a synced chat lands in that chat, newest first', async () => {
      await ready('lm-synced');
      await sync('lm-synced');
      const { log } = await t.joined('lm-synced');
      const message = live({ id: 'true_chat1@c.us_3EB0LIVE000003', chatId: 'chat1@c.us', fromMe: true, timestamp: 1_764_150_060, ack: 0 });

      t.whatsapp.clientOf('lm-synced')!.receiveMessage(message);
      await log.waitFor('message');

      expect(await t.db.counts('lm-synced')).toEqual({ sessions: 1, chats: 3, messages: 126, sync_runs: 1 });
      const page = await t.request<MessagePage>('GET', '/whatsapp-web/session/lm-synced/chats/chat1@c.us/messages?limit=2');
      expect(page.body.messages.map((m) => m.id)).toEqual(['true_chat1@c.us_3EB0LIVE000003', 'true_chat1@c.us_3EB0000049']);
      expect(page.body.messages[0]).toEqual(view(message));
    });
  });

  describe('message pages', () => {
    const TIES = 30;
    const paged = (): SimulatedAccountSpec => ({
      ...account(),
      chats: [
        chat('paged@c.us', 50),
        chat('exact@c.us', 14),
        // Three messages per second: the keyset must break ties without losing or repeating any.
        chat('ties@g.us', TIES, {
          messages: messagesFor('ties@g.us', TIES).map((m, n) => ({ ...m, timestamp: 1_764_150_000 - Math.floor(n / 3) })),
        }),
        chat('empty@c.us', 0),
      ],
    });

    async function allPages(sessionId: string, chatId: string, limit: number, between?: (page: number) => void): Promise<MessagePage[]> {
      const pages: MessagePage[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `?limit=${limit}${cursor === null ? '' : `&before=${encodeURIComponent(cursor)}`}`;
        const answer = await t.request<MessagePage>('GET', `/whatsapp-web/session/${sessionId}/chats/${chatId}/messages${query}`);
        expect(answer.status).toBe(200);
        pages.push(answer.body);
        cursor = answer.body.nextCursor;
        between?.(pages.length);
      } while (cursor !== null && pages.length <= 100);
      return pages;
    }

    beforeEach(() => {
      t.whatsapp.account = accountFromSpec(paged());
    });

    it('pages of 7 through a chat of 50 return all 50 exactly once, newest first, the last with nextCursor null', async () => {
      await ready('pg-50');
      await sync('pg-50');

      const pages = await allPages('pg-50', 'paged@c.us', 7);

      expect(pages.map((p) => p.messages.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 1]);
      expect(pages.map((p) => p.nextCursor === null)).toEqual([false, false, false, false, false, false, false, true]);
      const ids = pages.flatMap((p) => p.messages.map((m) => m.id));
      expect(ids).toEqual(messagesFor('paged@c.us', 50).map((m) => m.id).reverse());
      expect(pages[0].messages[0]).toEqual({
        id: 'true_paged@c.us_3EB0000049',
        chatId: 'paged@c.us',
        fromMe: true,
        author: null,
        body: 'message 49 of paged@c.us',
        type: 'chat',
        timestamp: 1764150000,
        hasMedia: false,
        ack: 2,
        ...UNCHANGED,
      });
      expect(pages[7].messages).toEqual([
        { id: 'false_paged@c.us_3EB0000000', chatId: 'paged@c.us', fromMe: false, author: null, body: 'message 0 of paged@c.us', type: 'chat', timestamp: 1764150000 - 49 * 60, hasMedia: false, ack: 0, ...UNCHANGED },
      ]);
    });

    it('the default page is 50 messages, and a chat of exactly 50 fits in it with nextCursor null', async () => {
      await ready('pg-default');
      await sync('pg-default');

      const answer = await t.request<MessagePage>('GET', '/whatsapp-web/session/pg-default/chats/paged@c.us/messages');

      expect(answer.body.messages).toHaveLength(50);
      expect(answer.body.nextCursor).toBeNull();
    });

    it('a chat whose size is a multiple of the limit ends with a full page and nextCursor null', async () => {
      await ready('pg-exact');
      await sync('pg-exact');

      const pages = await allPages('pg-exact', 'exact@c.us', 7);

      expect(pages.map((p) => [p.messages.length, p.nextCursor === null])).toEqual([
        [7, false],
        [7, true],
      ]);
      expect(pages.flatMap((p) => p.messages.map((m) => m.id))).toEqual(messagesFor('exact@c.us', 14).map((m) => m.id).reverse());
    });

    it('messages sharing a timestamp are each returned once across pages', async () => {
      await ready('pg-ties');
      await sync('pg-ties');

      for (const limit of [1, 2, 4, 7]) {
        const pages = await allPages('pg-ties', 'ties@g.us', limit);
        const ids = pages.flatMap((p) => p.messages.map((m) => m.id));
        const timestamps = pages.flatMap((p) => p.messages.map((m) => m.timestamp));
        expect({ limit, n: ids.length, unique: new Set(ids).size }).toEqual({ limit, n: TIES, unique: TIES });
        expect(new Set(ids)).toEqual(new Set(messagesFor('ties@g.us', TIES).map((m) => m.id)));
        expect(timestamps).toEqual([...timestamps].sort((x, y) => y - x));
        expect(pages[pages.length - 1].nextCursor).toBeNull();
      }
    });

    it('a chat with no messages answers an empty page', async () => {
      await ready('pg-empty');
      await sync('pg-empty');

      const answer = await t.request<MessagePage>('GET', '/whatsapp-web/session/pg-empty/chats/empty@c.us/messages?limit=7');
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { messages: [], nextCursor: null } });
    });

    it('a message that arrives while a client pages does not shift the pages: the older ones still come once each', async () => {
      await ready('pg-live');
      await sync('pg-live');
      const { log } = await t.joined('pg-live');
      const newest: WaMessage = {
        id: 'false_paged@c.us_3EB0LIVE0000',
        chatId: 'paged@c.us',
        fromMe: false,
        author: null,
        body: 'new',
        type: 'chat',
        timestamp: 1_764_160_000,
        hasMedia: false,
        ack: 0,
        raw: {},
      };
      let arrived: Promise<void> | undefined;

      const pages = await allPages('pg-live', 'paged@c.us', 7, (page) => {
        if (page === 2) {
          t.whatsapp.clientOf('pg-live')!.receiveMessage(newest);
          arrived = log.waitFor('message');
        }
      });
      await arrived;

      expect(pages.flatMap((p) => p.messages.map((m) => m.id))).toEqual(messagesFor('paged@c.us', 50).map((m) => m.id).reverse());
      const first = await t.request<MessagePage>('GET', '/whatsapp-web/session/pg-live/chats/paged@c.us/messages?limit=1');
      expect(first.body.messages.map((m) => m.id)).toEqual([newest.id]);
    });
  });

  describe('health', () => {
    it.each([['/health'], ['/whatsapp-web/health']])('GET %s answers 200 {status: ok, database: up}', async (path) => {
      const answer = await t.request('GET', path);
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 200,
        body: { status: 'ok', database: 'up', uptimeSeconds: expect.any(Number) },
      });
    });
  });
});

describe('with API_KEY set', () => {
  let t: TestApp;
  const raw: Socket[] = [];
  const unauthorized = { statusCode: 401, error: 'Unauthorized', message: 'A valid x-api-key header is required' };

  beforeAll(async () => {
    t = await TestApp.start({ account: { ...seedAccount(), scanAfterMs: NEVER_SCANNED }, env: { API_KEY: 'k' } });
  });
  afterAll(async () => {
    for (const socket of raw) socket.close();
    await t.close();
  });

  it.each<[string, Record<string, string>]>([
    ['no x-api-key', {}],
    ['a wrong x-api-key', { 'x-api-key': 'wrong' }],
    ['an x-api-key in the wrong case', { 'x-api-key': 'K' }],
    ['an empty x-api-key', { 'x-api-key': '' }],
    ['the key as a bearer token instead', { authorization: 'Bearer k' }],
  ])('REST with %s is a 401 JSON error and does nothing', async (_what, headers) => {
    for (const [method, path] of [
      ['GET', '/whatsapp-web/sessions'],
      ['POST', '/whatsapp-web/session/ak-nope/start'],
      ['GET', '/whatsapp-web/session/ak-nope'],
      ['POST', '/whatsapp-web/session/ak-nope/sync-chats'],
      ['GET', '/whatsapp-web/session/ak-nope/chats?sync=false'],
      ['DELETE', '/whatsapp-web/session/ak-nope?purge=true'],
    ]) {
      const answer = await t.request(method, path, { headers });
      expect({ request: `${method} ${path}`, status: answer.status, body: answer.body }).toEqual({ request: `${method} ${path}`, status: 401, body: unauthorized });
    }
    expect(await t.db.counts()).toEqual({ sessions: 0, chats: 0, messages: 0, sync_runs: 0 });
  });

  it('REST with the right x-api-key answers', async () => {
    const headers = { 'x-api-key': 'k' };
    const list = await t.request('GET', '/whatsapp-web/sessions', { headers });
    expect({ status: list.status, body: list.body }).toEqual({ status: 200, body: [] });
    const started = await t.request('POST', '/whatsapp-web/session/ak-yes/start', { headers });
    expect({ status: started.status, body: started.body }).toEqual({ status: 201, body: sessionView('ak-yes', 'qr') });
    const got = await t.request('GET', '/whatsapp-web/session/ak-yes', { headers });
    expect(got.status).toBe(200);
  });

  it.each([['/health'], ['/whatsapp-web/health']])('%s needs no key', async (path) => {
    const answer = await t.request('GET', path);
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { status: 'ok', database: 'up', uptimeSeconds: expect.any(Number) } });
  });

  it('a socket without auth is refused with connect_error unauthorized', async () => {
    await expect(t.socket()).rejects.toMatchObject({ message: 'unauthorized' });
  });

  it('a socket with a wrong apiKey is refused with connect_error unauthorized', async () => {
    await expect(t.socket({ apiKey: 'wrong' })).rejects.toMatchObject({ message: 'unauthorized' });
  });

  it('a socket with auth {apiKey} connects and can join a session', async () => {
    await t.request('POST', '/whatsapp-web/session/ak-socket/start', { headers: { 'x-api-key': 'k' } });
    const socket = await t.socket({ apiKey: 'k' });
    expect(socket.connected).toBe(true);
    expect(await emitWithAck(socket, 'join-session', { sessionId: 'ak-socket' })).toEqual({ ok: true });
  });

  it('a socket with the x-api-key header connects', async () => {
    const socket = io(t.baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { 'x-api-key': 'k' } });
    raw.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    expect(socket.connected).toBe(true);
  });
});
