import { createHash } from 'node:crypto';
import { chat, seedAccount } from './support/accounts';
import { rawRequest } from './support/raw-http';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * README.md's REST rules and names, against the real HTTP server: every bad input is answered with
 * the exact status and the JSON body `{statusCode, error, message}`, never a 500 and never a stack
 * trace, and none of them writes a row.
 */

const LIMIT_PER_CHAT_RULE = 'limitPerChat must be an integer from 1 to 10000';
const LIMIT_RULE = 'limit must be an integer from 1 to 500';
const SESSION_ID_RULE = 'id must be 1-64 characters of A-Z, a-z, 0-9, _ or -';
const CHAT_ID_RULE = 'chatId must be 1 to 1024 bytes of UTF-8 text without NUL characters';
const CURSOR_RULE = 'before must be a nextCursor returned by a previous page';
const SYNC_RULE = 'sync must be true or false';
const PURGE_RULE = 'purge must be true or false';

const badRequest = (message: string) => ({ statusCode: 400, error: 'Bad Request', message });
const notFound = (message: string) => ({ statusCode: 404, error: 'Not Found', message });
const conflict = (message: string) => ({ statusCode: 409, error: 'Conflict', message });

/** Fixture sessions, set up once before the matrix. */
const READY = 'vready'; // ready, synced once: 3 chats, 125 messages
const WAITING = 'vwaiting'; // started, waiting for a QR scan that never comes
const STOPPED = 'vstopped'; // ready, synced once, then stopped
const DISCONNECTED = 'vdisconnected'; // ready, then the phone dropped the connection
const UNKNOWN = 'vghost'; // never started

/** A V8 stack frame (`at fn (/path/file.js:1:2)`), raw or inside a JSON string, or a source path. */
const STACK_FRAME = /\bat [^"]*?\(?[^\s"()]+:\d+:\d+\)?|node_modules|\/work\/|\.ts:\d+/;

interface RawAnswer {
  status: number;
  text: string;
  contentType: string | undefined;
  body: unknown;
}

/** Every answer of the file, to check at the end that none leaked internals. */
const answers: Array<{ what: string; answer: RawAnswer }> = [];

const encodedRoutes = (id: string): Array<[string, string]> => [
  ['POST', `/whatsapp-web/session/${id}/start`],
  ['GET', `/whatsapp-web/session/${id}`],
  ['GET', `/whatsapp-web/session/${id}/qr`],
  ['POST', `/whatsapp-web/session/${id}/stop`],
  ['DELETE', `/whatsapp-web/session/${id}`],
  ['DELETE', `/whatsapp-web/session/${id}?purge=true`],
  ['POST', `/whatsapp-web/session/${id}/sync-chats`],
  ['POST', `/whatsapp-web/session/${id}/sync-chats?limitPerChat=10`],
  ['GET', `/whatsapp-web/session/${id}/sync-chats/latest`],
  ['GET', `/whatsapp-web/session/${id}/chats`],
  ['GET', `/whatsapp-web/session/${id}/chats?sync=false`],
  ['GET', `/whatsapp-web/session/${id}/chats/chat1@c.us/messages`],
];

/** Session ids as they appear in the path (already percent-encoded where needed), and why they are bad. */
const INVALID_IDS: Array<[string, string]> = [
  ['65 characters', 'a'.repeat(65)],
  ['a dot', 'a.b'],
  ['a NUL byte', '%00'],
  ['a non-ASCII letter (é)', '%C3%A9'],
  ['a non-ASCII letter inside (caf\u00e9)', 'caf%C3%A9'],
  ['a parent directory (..)', '..'],
  ['a single dot', '.'],
  ['a space', 'a%20b'],
  ['an encoded slash', 'a%2Fb'],
  ['an at sign', 'a@b'],
];

describe('bad input is rejected with exact JSON errors and changes nothing', () => {
  let t: TestApp;
  let before: Record<string, number>;

  beforeAll(async () => {
    t = await TestApp.start({ account: { ...seedAccount(), scanAfterMs: 10 * 60_000 } });
    for (const id of [READY, STOPPED, DISCONNECTED]) await ready(id);
    await expectOk('POST', `/whatsapp-web/session/${READY}/sync-chats`, 200);
    await expectOk('POST', `/whatsapp-web/session/${STOPPED}/sync-chats`, 200);
    await expectOk('POST', `/whatsapp-web/session/${STOPPED}/stop`, 200);
    await expectOk('POST', `/whatsapp-web/session/${WAITING}/start`, 201);
    t.whatsapp.clientOf(DISCONNECTED)!.disconnect('phone offline');
    await waitFor(async () => (await status(DISCONNECTED)) === 'disconnected', `${DISCONNECTED} disconnected`);
    before = await t.db.counts();
    expect(before).toEqual({ sessions: 4, chats: 6, messages: 250, sync_runs: 2 });
  });
  afterAll(() => t.close());

  async function ready(sessionId: string): Promise<void> {
    await expectOk('POST', `/whatsapp-web/session/${sessionId}/start`, 201);
    t.whatsapp.clientOf(sessionId)!.scan();
    await waitFor(async () => (await status(sessionId)) === 'ready', `${sessionId} ready`);
  }

  async function status(sessionId: string): Promise<string | undefined> {
    const answer = await send('GET', `/whatsapp-web/session/${sessionId}`);
    return (answer.body as { status?: string }).status;
  }

  async function expectOk(method: string, path: string, expected: number): Promise<RawAnswer> {
    const answer = await send(method, path);
    if (answer.status !== expected) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
    return answer;
  }

  /** A raw HTTP request (the path is sent as given); every answer is kept to look for stack traces. */
  async function send(method: string, path: string, init: { headers?: Record<string, string | number>; body?: string | Buffer } = {}): Promise<RawAnswer> {
    const raw = await rawRequest(t.baseUrl, method, path, init);
    const contentType = raw.headers['content-type'];
    const answer = { status: raw.status, text: raw.text, contentType: typeof contentType === 'string' ? contentType : undefined, body: raw.body };
    answers.push({ what: `${method} ${path}`, answer });
    return answer;
  }

  async function expectError(
    method: string,
    path: string,
    status: number,
    body: Record<string, unknown>,
    init?: { headers?: Record<string, string | number>; body?: string | Buffer },
  ): Promise<void> {
    const answer = await send(method, path, init);
    expect({ request: `${method} ${path}`, status: answer.status, body: answer.body }).toEqual({ request: `${method} ${path}`, status, body });
    expect(answer.contentType).toMatch(/^application\/json\b/);
    expect(answer.text).not.toMatch(STACK_FRAME);
  }

  describe('limitPerChat', () => {
    const BAD_LIMITS: Array<[string, string]> = [
      ['a word', 'limitPerChat=abc'],
      ['a negative number', 'limitPerChat=-1'],
      ['zero', 'limitPerChat=0'],
      ['a fraction', 'limitPerChat=1.5'],
      ['too large', 'limitPerChat=99999999'],
      ['one over the maximum', 'limitPerChat=10001'],
      ['empty', 'limitPerChat='],
      ['exponent notation', 'limitPerChat=1e2'],
      ['hexadecimal', 'limitPerChat=0x10'],
      ['a leading space', 'limitPerChat=%2010'],
      ['a plus sign', 'limitPerChat=%2B10'],
      ['given twice', 'limitPerChat=1&limitPerChat=2'],
      ['twenty digits', 'limitPerChat=12345678901234567890'],
    ];

    it.each(BAD_LIMITS)('POST sync-chats with %s is a 400 that says what is allowed', async (_what, query) => {
      await expectError('POST', `/whatsapp-web/session/${READY}/sync-chats?${query}`, 400, badRequest(LIMIT_PER_CHAT_RULE));
    });

    it.each(BAD_LIMITS)('GET chats with %s is a 400 that says what is allowed', async (_what, query) => {
      await expectError('GET', `/whatsapp-web/session/${READY}/chats?${query}`, 400, badRequest(LIMIT_PER_CHAT_RULE));
    });

    it('is checked before the session is looked up', async () => {
      await expectError('POST', `/whatsapp-web/session/${UNKNOWN}/sync-chats?limitPerChat=0`, 400, badRequest(LIMIT_PER_CHAT_RULE));
      await expectError('POST', `/whatsapp-web/session/${WAITING}/sync-chats?limitPerChat=abc`, 400, badRequest(LIMIT_PER_CHAT_RULE));
      await expectError('GET', `/whatsapp-web/session/${WAITING}/chats?limitPerChat=-1`, 400, badRequest(LIMIT_PER_CHAT_RULE));
    });
  });

  describe('session ids', () => {
    const cases = INVALID_IDS.flatMap(([what, id]) =>
      encodedRoutes(id).map(([method, path]) => [`${method} ${path.replace(id, '<' + what + '>')}`, method, path] as const),
    );

    it.each(cases)('%s is a 400 naming the rule', async (_name, method, path) => {
      await expectError(method, path, 400, badRequest(SESSION_ID_RULE));
    });

    it('accepts 64 characters as an id (an unknown session, so 404)', async () => {
      const id = 'A-z_9'.repeat(12) + 'abcd';
      expect(id).toHaveLength(64);
      await expectError('GET', `/whatsapp-web/session/${id}`, 404, notFound(`Session ${id} not found`));
    });

    it('treats ids that are names of object properties as plain unknown sessions', async () => {
      for (const id of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
        await expectError('GET', `/whatsapp-web/session/${id}`, 404, notFound(`Session ${id} not found`));
        await expectError('POST', `/whatsapp-web/session/${id}/sync-chats`, 404, notFound(`Session ${id} not found`));
        await expectError('GET', `/whatsapp-web/session/${id}/chats?sync=false`, 404, notFound(`Session ${id} not found`));
      }
    });

    it('answers an id that is not valid percent-encoding with a JSON 400, not a 500', async () => {
      for (const id of ['%', '%E0%A4%A', '%zz']) {
        await expectError('GET', `/whatsapp-web/session/${id}`, 400, badRequest(`Failed to decode param '${id}'`));
        await expectError('POST', `/whatsapp-web/session/${id}/sync-chats`, 400, badRequest(`Failed to decode param '${id}'`));
      }
    });
  });

  describe('unknown sessions', () => {
    const missing = notFound(`Session ${UNKNOWN} not found`);

    it('POST sync-chats is a 404', async () => {
      await expectError('POST', `/whatsapp-web/session/${UNKNOWN}/sync-chats`, 404, missing);
      await expectError('POST', `/whatsapp-web/session/${UNKNOWN}/sync-chats?limitPerChat=5`, 404, missing);
    });

    it('GET chats is a 404, with or without sync', async () => {
      await expectError('GET', `/whatsapp-web/session/${UNKNOWN}/chats`, 404, missing);
      await expectError('GET', `/whatsapp-web/session/${UNKNOWN}/chats?sync=true`, 404, missing);
      await expectError('GET', `/whatsapp-web/session/${UNKNOWN}/chats?sync=false`, 404, missing);
    });

    it('every other route that reads or changes a session is a 404', async () => {
      await expectError('GET', `/whatsapp-web/session/${UNKNOWN}`, 404, missing);
      await expectError('GET', `/whatsapp-web/session/${UNKNOWN}/qr`, 404, missing);
      await expectError('POST', `/whatsapp-web/session/${UNKNOWN}/stop`, 404, missing);
      await expectError('DELETE', `/whatsapp-web/session/${UNKNOWN}`, 404, missing);
      await expectError('DELETE', `/whatsapp-web/session/${UNKNOWN}?purge=true`, 404, missing);
      await expectError('GET', `/whatsapp-web/session/${UNKNOWN}/sync-chats/latest`, 404, missing);
      await expectError('GET', `/whatsapp-web/session/${UNKNOWN}/chats/chat1@c.us/messages`, 404, missing);
    });

    it('an unknown route is a JSON 404', async () => {
      await expectError('GET', '/whatsapp-web/nothing-here', 404, notFound('Cannot GET /whatsapp-web/nothing-here'));
      await expectError('PUT', `/whatsapp-web/session/${READY}`, 404, notFound(`Cannot PUT /whatsapp-web/session/${READY}`));
    });
  });

  describe('sessions that are not ready', () => {
    const notReady = (id: string, status: string) => conflict(`Session ${id} is not ready (status: ${status})`);
    const NOT_READY: Array<[string, string]> = [
      [WAITING, 'qr'],
      [STOPPED, 'stopped'],
      [DISCONNECTED, 'disconnected'],
    ];

    it.each(NOT_READY)('POST sync-chats of %s is a 409 naming its status (%s)', async (id, state) => {
      await expectError('POST', `/whatsapp-web/session/${id}/sync-chats`, 409, notReady(id, state));
      await expectError('POST', `/whatsapp-web/session/${id}/sync-chats?limitPerChat=10000`, 409, notReady(id, state));
    });

    it.each(NOT_READY)('GET chats of %s is a 409 naming its status (%s)', async (id, state) => {
      await expectError('GET', `/whatsapp-web/session/${id}/chats`, 409, notReady(id, state));
      await expectError('GET', `/whatsapp-web/session/${id}/chats?sync=true`, 409, notReady(id, state));
    });

    it('GET chats?sync=false of a session waiting for its scan answers 200 with no chats', async () => {
      const answer = await send('GET', `/whatsapp-web/session/${WAITING}/chats?sync=false`);
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: [] });
    });

    it('GET chats?sync=false of a stopped session answers 200 with its stored chats, newest first', async () => {
      const answer = await send('GET', `/whatsapp-web/session/${STOPPED}/chats?sync=false`);
      expect(answer.status).toBe(200);
      const chats = answer.body as Array<Record<string, unknown>>;
      expect(chats.map(({ updatedAt: _updatedAt, ...rest }) => rest)).toEqual([
        { id: 'chat1@c.us', name: 'Alice', isGroup: false, unreadCount: 2, timestamp: 1764150000, archived: false, pinned: false },
        { id: 'chat2@c.us', name: 'Bob', isGroup: false, unreadCount: 0, timestamp: 1764149900, archived: false, pinned: false },
        { id: 'chat3@g.us', name: 'Team', isGroup: true, unreadCount: 0, timestamp: 1764149800, archived: false, pinned: false },
      ]);
      expect(chats.every((c) => typeof c.updatedAt === 'string')).toBe(true);
    });

    it('sync=false still rejects a bad limitPerChat', async () => {
      await expectError('GET', `/whatsapp-web/session/${STOPPED}/chats?sync=false&limitPerChat=0`, 400, badRequest(LIMIT_PER_CHAT_RULE));
    });

    it('GET sync-chats/latest of a session that never synced is a 404', async () => {
      await expectError('GET', `/whatsapp-web/session/${WAITING}/sync-chats/latest`, 404, notFound(`No synchronization has run for session ${WAITING}`));
    });
  });

  describe('sync and purge flags', () => {
    it.each([['maybe'], [''], ['1'], ['TRUE'], ['yes']])('GET chats?sync=%p is a 400', async (value) => {
      await expectError('GET', `/whatsapp-web/session/${READY}/chats?sync=${value}`, 400, badRequest(SYNC_RULE));
    });

    it('GET chats with sync given twice is a 400', async () => {
      await expectError('GET', `/whatsapp-web/session/${READY}/chats?sync=false&sync=true`, 400, badRequest(SYNC_RULE));
    });

    it.each([['maybe'], ['1'], ['']])('DELETE ?purge=%p is a 400 and deletes nothing', async (value) => {
      await expectError('DELETE', `/whatsapp-web/session/${STOPPED}?purge=${value}`, 400, badRequest(PURGE_RULE));
    });
  });

  describe('messages route', () => {
    const messagesOf = (query: string, chatId = 'chat1@c.us', sessionId = READY) =>
      `/whatsapp-web/session/${sessionId}/chats/${chatId}/messages${query}`;
    const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    it.each([['0'], ['501'], ['abc'], ['-1'], ['1.5'], ['1e2'], [''], ['99999999999']])('limit=%p is a 400', async (limit) => {
      await expectError('GET', messagesOf(`?limit=${limit}`), 400, badRequest(LIMIT_RULE));
    });

    it('limit given twice is a 400', async () => {
      await expectError('GET', messagesOf('?limit=1&limit=2'), 400, badRequest(LIMIT_RULE));
    });

    it.each([
      ['garbage', 'not-a-cursor'],
      ['characters outside base64url', '%21%21%21'],
      ['empty', ''],
      ['base64 of a JSON object', cursor({ timestamp: 1764150000, id: 1 })],
      ['base64 of a one-element array', cursor([1764150000])],
      ['base64 of three numbers', cursor([1764150000, 1, 2])],
      ['base64 of a negative id', cursor([1764150000, -1])],
      ['base64 of a fractional timestamp', cursor([1764150000.5, 1])],
      ['base64 of strings', cursor(['1764150000', '1'])],
      ['base64 of a string', cursor('x')],
      ['base64 of null', cursor(null)],
      ['base64 of an unsafe integer', cursor([2 ** 60, 1])],
      ['base64 of text that is not JSON', Buffer.from('[1, 2').toString('base64url')],
      ['too long', 'A'.repeat(201)],
    ])('before that is %s is a 400', async (_what, before) => {
      await expectError('GET', messagesOf(`?before=${before}`), 400, badRequest(CURSOR_RULE));
    });

    it('before given twice is a 400', async () => {
      const first = await send('GET', messagesOf('?limit=1'));
      const next = (first.body as { nextCursor: string }).nextCursor;
      expect(next).toEqual(expect.any(String));
      await expectError('GET', messagesOf(`?before=${next}&before=${next}`), 400, badRequest(CURSOR_RULE));
    });

    it.each([
      ['a NUL byte', '123%00@c.us'],
      ['only a NUL byte', '%00'],
      ['1,025 bytes', `${'1'.repeat(1020)}@c.us`],
      ['1,025 bytes in 515 characters', `${'%C3%A9'.repeat(510)}@c.us`],
      ['10,000 bytes', `${'1'.repeat(9995)}@c.us`],
    ])('a chatId with %s is a 400', async (_what, chatId) => {
      await expectError('GET', messagesOf('', chatId), 400, badRequest(CHAT_ID_RULE));
    });

    it('an empty chatId matches no route', async () => {
      await expectError('GET', messagesOf('', ''), 404, notFound(`Cannot GET ${messagesOf('', '')}`));
    });

    // Any text the storage could hold is a valid id: the route answers whether the chat is stored.
    it.each([
      ['no @', 'notachat', 'notachat'],
      ['two @', 'a@b@c.us', 'a@b@c.us'],
      ['an empty user', '@c.us', '@c.us'],
      ['a space', '123%20456@c.us', '123 456@c.us'],
      ['a non-ASCII letter', '123%C3%A9@c.us', '123\u00e9@c.us'],
      ['an emoji', '%F0%9F%98%80@c.us', '\u{1F600}@c.us'],
      ['an encoded slash', 'a%2Fb@c.us', 'a/b@c.us'],
      ['129 characters', `${'1'.repeat(124)}@c.us`, `${'1'.repeat(124)}@c.us`],
      ['1,024 bytes', `${'1'.repeat(1019)}@c.us`, `${'1'.repeat(1019)}@c.us`],
    ])('a chatId with %s is valid: an unknown one is a 404', async (_what, chatId, decoded) => {
      await expectError('GET', messagesOf('', chatId), 404, notFound(`Chat ${decoded} not found in session ${READY}`));
    });

    it('a chatId that is not valid UTF-8 (an encoded lone surrogate) is a JSON 400', async () => {
      await expectError('GET', messagesOf('', '%ED%A0%80@c.us'), 400, badRequest("Failed to decode param '%ED%A0%80@c.us'"));
    });

    it('a bad session id and a bad chat id are both reported', async () => {
      await expectError('GET', messagesOf('', '%00', 'a.b'), 400, badRequest(`${CHAT_ID_RULE}; ${SESSION_ID_RULE}`));
    });

    it('an unknown chat of a known session is a 404', async () => {
      await expectError('GET', messagesOf('', '999@c.us'), 404, notFound(`Chat 999@c.us not found in session ${READY}`));
      await expectError('GET', messagesOf('', '123-456@g.us', WAITING), 404, notFound(`Chat 123-456@g.us not found in session ${WAITING}`));
    });

    it('a well-formed request still answers 200 (the matrix is not rejecting everything)', async () => {
      const answer = await send('GET', messagesOf('?limit=500'));
      expect(answer.status).toBe(200);
      expect((answer.body as { messages: unknown[]; nextCursor: unknown }).messages).toHaveLength(50);
      expect((answer.body as { nextCursor: unknown }).nextCursor).toBeNull();
    });
  });

  describe('QR', () => {
    it.each([
      [READY, 'ready'],
      [STOPPED, 'stopped'],
      [DISCONNECTED, 'disconnected'],
    ])('GET qr of %s, which is not waiting for a scan, is a 409 (%s)', async (id, state) => {
      await expectError('GET', `/whatsapp-web/session/${id}/qr`, 409, conflict(`Session ${id} is not waiting for a QR scan (status: ${state})`));
    });
  });

  describe('request bodies', () => {
    const jsonError = (text: string): string => {
      try {
        JSON.parse(text);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error(`${text} is valid JSON`);
    };

    it.each([
      ['{bad'],
      ['{"sessionId": '],
      ['[1, 2'],
      ['{"a": 1,}'],
    ])('malformed JSON %p on POST start is a 400 JSON error and starts nothing', async (text) => {
      await expectError('POST', `/whatsapp-web/session/${UNKNOWN}/start`, 400, badRequest(jsonError(text)), {
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      await expectError('GET', `/whatsapp-web/session/${UNKNOWN}`, 404, notFound(`Session ${UNKNOWN} not found`));
    });

    it('malformed JSON on POST sync-chats is a 400 JSON error and syncs nothing', async () => {
      await expectError('POST', `/whatsapp-web/session/${READY}/sync-chats`, 400, badRequest(jsonError('{"limitPerChat": }')), {
        headers: { 'content-type': 'application/json' },
        body: '{"limitPerChat": }',
      });
    });

    it('a JSON body that is not an object or array is a 400 JSON error', async () => {
      await expectError('POST', `/whatsapp-web/session/${READY}/sync-chats`, 400, badRequest('Unexpected token \'"\', ""just a string"" is not valid JSON'), {
        headers: { 'content-type': 'application/json' },
        body: '"just a string"',
      });
    });

    it('a body over 100 kB is a 413 JSON error', async () => {
      const body = JSON.stringify({ padding: 'x'.repeat(150 * 1024) });
      await expectError('POST', `/whatsapp-web/session/${READY}/sync-chats`, 413, { statusCode: 413, error: 'Payload Too Large', message: 'request entity too large' }, {
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        body,
      });
      await expectError('POST', `/whatsapp-web/session/${UNKNOWN}/start`, 413, { statusCode: 413, error: 'Payload Too Large', message: 'request entity too large' }, {
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        body,
      });
    });

    it('a JSON body in an unsupported charset is a 415 JSON error', async () => {
      await expectError('POST', `/whatsapp-web/session/${READY}/sync-chats`, 415, { statusCode: 415, error: 'Unsupported Media Type', message: 'unsupported charset "LATIN-9"' }, {
        headers: { 'content-type': 'application/json; charset=latin-9' },
        body: '{}',
      });
    });
  });

  describe('afterwards', () => {
    it('no answer was a 500, none was HTML, none carried a stack trace', () => {
      expect(answers.length).toBeGreaterThan(200);
      const leaks = answers.filter(({ answer }) => answer.status >= 500 || STACK_FRAME.test(answer.text) || /<html|<pre/i.test(answer.text));
      expect(leaks.map(({ what, answer }) => `${what} -> ${answer.status} ${answer.text.slice(0, 200)}`)).toEqual([]);
    });

    it('every error answer had the JSON shape {statusCode, error, message} with a matching status', () => {
      const errors = answers.filter(({ answer }) => answer.status >= 400);
      const malformed = errors.filter(({ answer }) => {
        const body = answer.body as Record<string, unknown>;
        return (
          typeof body !== 'object' ||
          body === null ||
          Object.keys(body).sort().join() !== 'error,message,statusCode' ||
          body.statusCode !== answer.status ||
          typeof body.error !== 'string' ||
          typeof body.message !== 'string' ||
          (body.message as string).length === 0
        );
      });
      expect(malformed.map(({ what, answer }) => `${what} -> ${answer.status} ${answer.text.slice(0, 200)}`)).toEqual([]);
    });

    it('the whole matrix changed no row of any table, and no session changed status', async () => {
      expect(await t.db.counts()).toEqual(before);
      expect(await t.db.query('SELECT session_id, status FROM sessions ORDER BY session_id')).toEqual([
        { session_id: DISCONNECTED, status: 'disconnected' },
        { session_id: READY, status: 'ready' },
        { session_id: STOPPED, status: 'stopped' },
        { session_id: WAITING, status: 'qr' },
      ]);
      expect(await t.db.query("SELECT count(*)::int AS n FROM sync_runs WHERE status <> 'done'")).toEqual([{ n: 0 }]);
    });
  });
});

describe('chat ids: the messages route reads every chat a sync stores', () => {
  const SESSION = 'vids';
  const LONGEST = `${'1'.repeat(1019)}@c.us`; // 1,024 bytes: the longest id that is stored
  const TOO_LONG = `${'\u00e9'.repeat(510)}@c.us`; // 1,025 bytes in 515 characters
  // 3,000 bytes that do not compress: past PostgreSQL's index row limit (2,704 bytes).
  const HUGE = `${Array.from({ length: 47 }, (_, n) => createHash('sha256').update(String(n)).digest('hex')).join('').slice(0, 2995)}@c.us`;
  const ACCEPTED: Array<[string, string, number]> = [
    ['non-ASCII letters', '\u00fcn\u00ef@c.us', 3],
    ['an emoji', '\u{1F600}-grp@g.us', 2],
    ['a space, a slash and a percent sign', 'a b/c%d@c.us', 1],
    ['no @ at all', 'newsletter-without-at', 1],
    ['1,024 bytes', LONGEST, 2],
  ];
  let t: TestApp;
  let sync: { status: number; body: Record<string, unknown> };

  beforeAll(async () => {
    t = await TestApp.start({
      account: {
        scanAfterMs: 0,
        fetchLatencyMs: 0,
        chats: [
          ...ACCEPTED.map(([, id, count]) => chat(id, count)),
          chat(TOO_LONG, 2),
          chat(HUGE, 2),
          chat('plain@c.us', 1),
        ],
      },
    });
    expect((await t.request('POST', `/whatsapp-web/session/${SESSION}/start`)).status).toBe(201);
    await waitFor(async () => (await t.request<{ status: string }>('GET', `/whatsapp-web/session/${SESSION}`)).body.status === 'ready', `${SESSION} ready`);
    sync = await t.request('POST', `/whatsapp-web/session/${SESSION}/sync-chats`);
  });
  afterAll(() => t.close());

  const messagesOf = (chatId: string) => `/whatsapp-web/session/${SESSION}/chats/${encodeURIComponent(chatId)}/messages`;

  it('the sync completes; a chat whose id is over 1,024 bytes fails alone and is not stored', async () => {
    const { durationMs, syncId, ...result } = sync.body;
    expect({ status: sync.status, result }).toEqual({
      status: 200,
      result: {
        success: true,
        chatsProcessed: 8,
        chatsFailed: 2,
        messagesSynced: 10,
        messagesInserted: 10,
        mode: 'full',
        chatsSkipped: 0,
        chatsWithGap: 0,
        message: 'Synchronization completed successfully',
      },
    });
    const rows = await t.db.query<{ wa_id: string }>('SELECT wa_id FROM chats WHERE session_id = $1 ORDER BY wa_id', [SESSION]);
    expect(rows.map((row) => row.wa_id).sort()).toEqual([...ACCEPTED.map(([, id]) => id), 'plain@c.us'].sort());
    expect(await t.db.counts(SESSION)).toEqual({ sessions: 1, chats: 6, messages: 10, sync_runs: 1 });
  });

  it.each(ACCEPTED)('a chat id with %s: the messages route returns its messages', async (_what, chatId, count) => {
    const answer = await t.request<{ messages: Array<{ id: string; chatId: string; body: string }>; nextCursor: unknown }>('GET', messagesOf(chatId));
    expect(answer.status).toBe(200);
    expect(answer.body.nextCursor).toBeNull();
    expect(answer.body.messages.map((m) => [m.chatId, m.body])).toEqual(
      Array.from({ length: count }, (_, n) => [chatId, `message ${count - 1 - n} of ${chatId}`]),
    );
  });

  it.each([
    ['1,025 bytes', TOO_LONG],
    ['3,000 bytes', HUGE],
  ])('a chat id of %s, which is not stored, is a 400 that says why', async (_what, chatId) => {
    const answer = await t.request('GET', messagesOf(chatId));
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 400, body: badRequest(CHAT_ID_RULE) });
  });

  it('the chat list holds the stored chats, and the run recorded the failures', async () => {
    const chats = await t.request<Array<{ id: string }>>('GET', `/whatsapp-web/session/${SESSION}/chats?sync=false`);
    expect(chats.body.map((c) => c.id).sort()).toEqual([...ACCEPTED.map(([, id]) => id), 'plain@c.us'].sort());
    const latest = await t.request<Record<string, unknown>>('GET', `/whatsapp-web/session/${SESSION}/sync-chats/latest`);
    expect(latest.body).toMatchObject({ status: 'done', nChats: 8, currentChat: 8, messagesSynced: 10, chatsFailed: 2 });
  });
});
