import { Logger } from '@nestjs/common';
import { Browser, Page, chromium } from 'playwright-core';
import { io, Socket } from 'socket.io-client';
import { apiKeyMatches } from '../src/transport/api-key';
import { CONTENT_SECURITY_POLICY } from '../src/transport/security-headers';
import { seedAccount } from './support/accounts';
import { rawBytes, rawRequest } from './support/raw-http';
import { EventLog, TestApp, emitWithAck, settled } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * Issue #6, access control and bad input: security headers that keep the dashboard and /docs
 * working, the API key, CORS origins enforced on REST and Socket.IO, rate limits, rooms, and the
 * bad inputs that validation.e2e-spec.ts does not cover (raw bytes, chunked bodies, oversized
 * Socket.IO messages).
 */

const CHROMIUM = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const NEVER_SCANNED = 10 * 60_000;
const JOIN_PAYLOAD_ERROR = 'payload must be {"sessionId": "<1-64 of A-Z a-z 0-9 _ ->"}';
const EXPECTED_CSP =
  "default-src 'self';base-uri 'self';connect-src 'self';font-src 'self' data:;form-action 'self';frame-ancestors 'self';" +
  "img-src 'self' data: blob:;media-src 'self' blob:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' 'unsafe-inline'";

/** Runs in the page: every CSP violation becomes a console error the test collects. */
const REPORT_CSP_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (event) => {
  console.error('Refused to load: CSP violation of ' + event.violatedDirective + ' by ' + event.blockedURI);
});`;

const account = () => ({ ...seedAccount(), scanAfterMs: NEVER_SCANNED });

/** A Socket.IO client that is not tracked by a TestApp; the caller closes it. */
function rawSocket(baseUrl: string, options: Parameters<typeof io>[1] = {}): Socket {
  return io(baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

async function readySession(t: TestApp, sessionId: string, headers: Record<string, string> = {}): Promise<void> {
  const started = await t.request('POST', `/whatsapp-web/session/${sessionId}/start`, { headers });
  expect(started.status).toBe(201);
  t.whatsapp.clientOf(sessionId)!.scan();
  await waitFor(async () => (await t.request<{ status: string }>('GET', `/whatsapp-web/session/${sessionId}`, { headers })).body.status === 'ready', `${sessionId} ready`);
}

describe('with the default configuration', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: account() });
  });
  afterAll(() => t.close());

  describe('security headers (helmet)', () => {
    it('the policy is exactly the documented one', () => {
      expect(Object.entries(CONTENT_SECURITY_POLICY).map(([name, values]) => `${name} ${values.join(' ')}`).join(';')).toBe(EXPECTED_CSP);
    });

    it.each([
      ['the dashboard', '/', /^text\/html/],
      ['its stylesheet', '/style.css', /^text\/css/],
      ['its script', '/app.js', /^(text|application)\/javascript/],
      ['the API docs', '/docs', /^text\/html/],
      ['the OpenAPI document', '/docs-json', /^application\/json/],
      ['a REST route', '/whatsapp-web/sessions', /^application\/json/],
      ['the health check', '/health', /^application\/json/],
    ])('%s (%s) answers 200 with the CSP and the other helmet headers', async (_what, path, type) => {
      const answer = await rawRequest(t.baseUrl, 'GET', path);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toMatch(type);
      expect(answer.headers).toMatchObject({
        'content-security-policy': EXPECTED_CSP,
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'x-dns-prefetch-control': 'off',
      });
      expect(answer.headers['x-powered-by']).toBeUndefined();
      expect(answer.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    });

    it('error answers carry them too: a 404, a 400 and a 413 of the body parser', async () => {
      const big = JSON.stringify({ padding: 'x'.repeat(150 * 1024) });
      for (const answer of [
        await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/nothing'),
        await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/session/a.b'),
        await rawRequest(t.baseUrl, 'POST', '/whatsapp-web/session/hdr/start', { headers: { 'content-type': 'application/json' }, body: big }),
      ]) {
        expect([answer.status, answer.headers['content-security-policy'], answer.headers['x-content-type-options']]).toEqual([
          expect.any(Number),
          EXPECTED_CSP,
          'nosniff',
        ]);
        expect(answer.status).toBeGreaterThanOrEqual(400);
      }
    });

    describe('in a real browser', () => {
      let browser: Browser;

      beforeAll(async () => {
        browser = await chromium.launch({
          executablePath: CHROMIUM,
          args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
        });
      });
      afterAll(() => browser?.close());

      /** A page that records CSP violations (as console errors) and page errors. */
      async function watchedPage(): Promise<{ page: Page; problems: string[] }> {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
        page.on('console', (message) => {
          if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`console: ${message.text()}`);
        });
        await page.addInitScript({ content: REPORT_CSP_VIOLATIONS });
        return { page, problems };
      }

      it('the dashboard loads its script, its stylesheet and Socket.IO, and shows a QR data: image, with no CSP violation', async () => {
        const { page, problems } = await watchedPage();
        await page.goto(`${t.baseUrl}/`);
        await page.fill('#new-session', 'csp-page');
        await page.click('#start-button');
        // The QR arrives over Socket.IO (or REST) and is shown as a data: image that decodes.
        await page.locator('#qr[src^="data:image/png;base64,"]').waitFor();
        expect(await page.locator('#qr').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
        expect(await page.evaluate('document.styleSheets.length')).toBe(1);
        await page.close();
        expect(problems).toEqual([]);
      });

      it('the Swagger UI at /docs renders every route, with no CSP violation', async () => {
        const { page, problems } = await watchedPage();
        await page.goto(`${t.baseUrl}/docs`);
        await page.locator('.opblock-summary-path').first().waitFor();
        const document = (await t.request<{ paths: Record<string, Record<string, unknown>> }>('GET', '/docs-json')).body;
        const operations = Object.values(document.paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
        expect(await page.locator('.opblock-summary-path').count()).toBe(operations);
        await page.close();
        expect(problems).toEqual([]);
      });
    });
  });

  describe('API key unset', () => {
    it('everything answers without a key', async () => {
      expect((await t.request('GET', '/whatsapp-web/sessions')).status).toBe(200);
      const socket = await t.socket();
      expect(socket.connected).toBe(true);
    });

    it('the start-up logs a warning that the service is open', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn');
      const open = await TestApp.start({ account: account() });
      const keyed = await TestApp.start({ account: account(), env: { API_KEY: 'a-key' } });
      const warnings = warn.mock.calls.map(([message]) => message);
      warn.mockRestore();
      await open.close();
      await keyed.close();
      expect(warnings.filter((message) => typeof message === 'string' && message.startsWith('API_KEY is not set'))).toEqual([
        'API_KEY is not set: the REST API and Socket.IO are open to anyone who can reach them',
      ]);
    });
  });

  describe('CORS_ORIGINS unset (*)', () => {
    it('any origin may call REST and gets itself back in Access-Control-Allow-Origin', async () => {
      const answer = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions', { headers: { origin: 'http://anywhere.example' } });
      expect(answer.status).toBe(200);
      expect(answer.headers['access-control-allow-origin']).toBe('http://anywhere.example');
    });

    it('any origin may open a socket', async () => {
      const socket = rawSocket(t.baseUrl, { extraHeaders: { origin: 'http://anywhere.example' } });
      try {
        await connected(socket);
        expect(socket.connected).toBe(true);
      } finally {
        socket.close();
      }
    });
  });

  describe('rate limit headers at the default limit', () => {
    it('REST answers say the limit (600 a minute) and what remains; /health is not counted', async () => {
      const first = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions');
      const second = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions');
      const health = await rawRequest(t.baseUrl, 'GET', '/health');
      expect(first.headers['x-ratelimit-limit']).toBe('600');
      expect(Number(second.headers['x-ratelimit-remaining'])).toBe(Number(first.headers['x-ratelimit-remaining']) - 1);
      expect(health.headers['x-ratelimit-limit']).toBeUndefined();
    });
  });

  describe('rooms', () => {
    it('a socket receives the events of the rooms it joined, and only while it is in them', async () => {
      await readySession(t, 'room-a');
      await readySession(t, 'room-b');
      await readySession(t, 'room-c');
      const socket = await t.socket();
      const log = new EventLog(socket);
      expect(await emitWithAck(socket, 'join-session', { sessionId: 'room-a' })).toEqual({ ok: true });
      expect(await emitWithAck(socket, 'join-session', { sessionId: 'room-b' })).toEqual({ ok: true });

      expect((await t.request('POST', '/whatsapp-web/session/room-a/sync-chats')).status).toBe(200);
      expect((await t.request('POST', '/whatsapp-web/session/room-b/sync-chats')).status).toBe(200);
      expect((await t.request('POST', '/whatsapp-web/session/room-c/sync-chats')).status).toBe(200);
      expect(await emitWithAck(socket, 'leave-session', { sessionId: 'room-a' })).toEqual({ ok: true });
      expect((await t.request('POST', '/whatsapp-web/session/room-a/sync-chats')).status).toBe(200);
      expect((await t.request('POST', '/whatsapp-web/session/room-b/sync-chats')).status).toBe(200);
      await settled(socket);

      const sessionsOf = (event: string) => log.of<{ sessionId: string }>(event).map((e) => e.sessionId);
      expect(sessionsOf('sync_chats_done')).toEqual(['room-a', 'room-b', 'room-b']);
      expect(sessionsOf('sync_chats')).toEqual([...Array(7).fill('room-a'), ...Array(7).fill('room-b'), ...Array(7).fill('room-b')]);
      expect(new Set(log.events.map((e) => (e.payload as { sessionId: string }).sessionId))).toEqual(new Set(['room-a', 'room-b']));
    });

    it('joining a session that was never started is refused in the acknowledgement, and its events never arrive', async () => {
      const socket = await t.socket();
      const log = new EventLog(socket);
      expect(await emitWithAck(socket, 'join-session', { sessionId: 'room-later' })).toEqual({ ok: false, error: 'session room-later was never started' });
      await readySession(t, 'room-later');
      expect((await t.request('POST', '/whatsapp-web/session/room-later/sync-chats')).status).toBe(200);
      await settled(socket);
      expect(log.events).toEqual([]);
    });
  });

  describe('bad input beyond validation.e2e-spec.ts', () => {
    const notFound = (message: string) => ({ statusCode: 404, error: 'Not Found', message });
    const SESSION_ID_RULE = 'id must be 1-64 characters of A-Z, a-z, 0-9, _ or -';

    it.each([
      ['a raw slash splits the id: no such route', 'POST', '/whatsapp-web/session/a/b/start', 404, notFound('Cannot POST /whatsapp-web/session/a/b/start')],
      ['an encoded path traversal', 'GET', '/whatsapp-web/session/..%2F..%2Fetc%2Fpasswd', 400, { statusCode: 400, error: 'Bad Request', message: SESSION_ID_RULE }],
      ['an encoded ..', 'POST', '/whatsapp-web/session/%2e%2e/start', 400, { statusCode: 400, error: 'Bad Request', message: SESSION_ID_RULE }],
      ['a NUL inside the id', 'GET', '/whatsapp-web/session/ab%00cd', 400, { statusCode: 400, error: 'Bad Request', message: SESSION_ID_RULE }],
      ['a 1,000-character id', 'GET', `/whatsapp-web/session/${'a'.repeat(1000)}`, 400, { statusCode: 400, error: 'Bad Request', message: SESSION_ID_RULE }],
      ['an emoji', 'GET', '/whatsapp-web/session/%F0%9F%98%80', 400, { statusCode: 400, error: 'Bad Request', message: SESSION_ID_RULE }],
      ['a right-to-left override', 'GET', '/whatsapp-web/session/ab%E2%80%AEcd', 400, { statusCode: 400, error: 'Bad Request', message: SESSION_ID_RULE }],
      ['a fullwidth letter', 'GET', '/whatsapp-web/session/%EF%BC%A1', 400, { statusCode: 400, error: 'Bad Request', message: SESSION_ID_RULE }],
      ['purge given twice', 'DELETE', '/whatsapp-web/session/bi-x?purge=true&purge=false', 400, { statusCode: 400, error: 'Bad Request', message: 'purge must be true or false' }],
      ['static traversal', 'GET', '/..%2f..%2fpackage.json', 404, notFound('Cannot GET /..%2f..%2fpackage.json')],
      ['static traversal with dots encoded', 'GET', '/%2e%2e/%2e%2e/package.json', 404, notFound('Cannot GET /%2e%2e/%2e%2e/package.json')],
    ])('%s: %s %s is a JSON %i', async (_what, method, path, status, body) => {
      const answer = await rawRequest(t.baseUrl, method, path);
      expect({ status: answer.status, body: answer.body }).toEqual({ status, body });
      expect(answer.text).not.toContain('"dependencies"');
    });

    it.each([
      ['raw UTF-8 in the request line', 'GET /whatsapp-web/session/caf\u00e9 HTTP/1.1'],
      ['a raw NUL in the request line', 'GET /whatsapp-web/session/a\u0000b HTTP/1.1'],
      ['a raw space in the path', 'GET /whatsapp-web/session/a b HTTP/1.1'],
    ])('%s, refused by the HTTP parser, is a JSON 400', async (_what, requestLine) => {
      const answer = await rawBytes(t.baseUrl, Buffer.from(`${requestLine}\r\nHost: x\r\nConnection: close\r\n\r\n`, 'utf8'));
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 400, body: { statusCode: 400, error: 'Bad Request', message: 'Malformed HTTP request' } });
    });

    it('headers over the server limit are a JSON 431', async () => {
      const answer = await rawBytes(t.baseUrl, Buffer.from(`GET /whatsapp-web/sessions HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`));
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 431,
        body: { statusCode: 431, error: 'Request Header Fields Too Large', message: 'The request headers are too large' },
      });
    });

    describe('a request without Host', () => {
      const NO_HOST = { statusCode: 400, error: 'Bad Request', message: 'An HTTP/1.1 request needs a Host header' };

      it.each([
        ['a REST route', 'GET /whatsapp-web/sessions'],
        ['the health check', 'GET /health'],
        ['the dashboard', 'GET /'],
        ['an unknown path', 'GET /no-such-page'],
        ['a route that acts', 'POST /whatsapp-web/session/bi-nohost/start'],
      ])('HTTP/1.1 to %s is a JSON 400, and nothing is done', async (_what, requestLine) => {
        const answer = await rawBytes(t.baseUrl, Buffer.from(`${requestLine} HTTP/1.1\r\nConnection: close\r\n\r\n`));
        expect({ status: answer.status, body: answer.body }).toEqual({ status: 400, body: NO_HOST });
        expect(answer.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', connection: 'close', 'x-content-type-options': 'nosniff' });
        expect((await t.request('GET', '/whatsapp-web/session/bi-nohost')).status).toBe(404);
      });

      it('HTTP/1.1 with an empty Host is answered (the authority may be empty)', async () => {
        const answer = await rawBytes(t.baseUrl, Buffer.from('GET /health HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n'), { halfClose: false });
        expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { status: 'ok', database: 'up', uptimeSeconds: expect.any(Number) } });
      });

      it('HTTP/1.0, which has no Host requirement, is answered', async () => {
        const answer = await rawBytes(t.baseUrl, Buffer.from('GET /health HTTP/1.0\r\n\r\n'), { halfClose: false });
        expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { status: 'ok', database: 'up', uptimeSeconds: expect.any(Number) } });
      });

      it('a Socket.IO handshake over HTTP/1.1 without Host is refused too', async () => {
        const answer = await rawBytes(t.baseUrl, Buffer.from('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nConnection: close\r\n\r\n'));
        expect({ status: answer.status, body: answer.body }).toEqual({ status: 403, body: { code: 4, message: 'An HTTP/1.1 request needs a Host header' } });
        const withHost = await rawBytes(t.baseUrl, Buffer.from('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
        expect(withHost.status).toBe(200);
        expect(withHost.text).toMatch(/^0\{"sid":/);
      });
    });

    describe('paths are case-sensitive', () => {
      it.each([
        ['GET', '/HEALTH'],
        ['GET', '/Health'],
        ['GET', '/WHATSAPP-WEB/health'],
        ['GET', '/WHATSAPP-WEB/sessions'],
        ['GET', '/whatsapp-web/SESSIONS'],
        ['POST', '/whatsapp-web/SESSION/bi-case/start'],
        ['GET', '/whatsapp-web/session/bi-case/CHATS'],
        ['GET', '/DOCS'],
      ])('%s %s is a JSON 404', async (method, path) => {
        const answer = await rawRequest(t.baseUrl, method, path);
        expect({ status: answer.status, body: answer.body }).toEqual({ status: 404, body: notFound(`Cannot ${method} ${path}`) });
        expect(answer.headers['x-ratelimit-limit']).toBeUndefined();
      });

      it('the routes as written still answer, a trailing slash included', async () => {
        for (const path of ['/health', '/health/', '/whatsapp-web/health', '/whatsapp-web/sessions', '/whatsapp-web/sessions/', '/docs']) {
          expect({ path, status: (await rawRequest(t.baseUrl, 'GET', path)).status }).toEqual({ path, status: 200 });
        }
        expect((await t.request('GET', '/whatsapp-web/session/bi-case')).status).toBe(404);
      });
    });

    it('a 4 MB chunked body (no content-length) is a JSON 413, starts nothing, and the server goes on', async () => {
      const chunks = Array.from({ length: 64 }, (_, n) => (n === 0 ? '{"padding":"' : '') + 'x'.repeat(64 * 1024));
      const answer = await rawRequest(t.baseUrl, 'POST', '/whatsapp-web/session/bi-chunked/start', {
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        body: chunks,
      });
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 413,
        body: { statusCode: 413, error: 'Payload Too Large', message: 'request entity too large' },
      });
      expect((await t.request('GET', '/whatsapp-web/session/bi-chunked')).status).toBe(404);
      expect((await t.request('GET', '/health')).status).toBe(200);
    });

    it('a body nested 20,000 levels deep is parsed without harm, and ignored by a route that takes none', async () => {
      const deep = '['.repeat(20_000) + ']'.repeat(20_000);
      const answer = await rawRequest(t.baseUrl, 'POST', '/whatsapp-web/session/bi-deep/start', { headers: { 'content-type': 'application/json' }, body: deep });
      expect({ status: answer.status, sessionId: (answer.body as { sessionId: string }).sessionId }).toEqual({ status: 201, sessionId: 'bi-deep' });
    });

    describe('Socket.IO messages', () => {
      it('join-session without an acknowledgement, an unknown event and a binary payload do no harm; the socket stays usable', async () => {
        await t.request('POST', '/whatsapp-web/session/bi-sock/start');
        const socket = await t.socket();
        socket.emit('join-session', { sessionId: 'bi-sock' });
        socket.emit('no-such-event', { sessionId: 'bi-sock' }, () => undefined);
        expect(await emitWithAck(socket, 'join-session', Buffer.from('{"sessionId":"bi-sock"}'))).toEqual({ ok: false, error: JOIN_PAYLOAD_ERROR });
        expect(await emitWithAck(socket, 'join-session', { sessionId: 'bi-sock' }, 'extra', 42)).toEqual({ ok: false, error: JOIN_PAYLOAD_ERROR });
        expect(await emitWithAck(socket, 'join-session', { sessionId: 'bi-sock' })).toEqual({ ok: true });
        expect(await emitWithAck(socket, 'join-session', { sessionId: { $ne: null } })).toEqual({ ok: false, error: JOIN_PAYLOAD_ERROR });
        expect(await emitWithAck(socket, 'join-session', { sessionId: ['bi-sock'] })).toEqual({ ok: false, error: JOIN_PAYLOAD_ERROR });
        expect(socket.connected).toBe(true);
      });

      it.each([
        ['1 MB', 1024 * 1024],
        ['200 KB', 200 * 1024],
      ])('join-session with a %s id closes that connection only; the server and the other sockets go on', async (_what, size) => {
        await readySession(t, `bi-big-${size}`);
        const bystander = await t.socket();
        const bystanderLog = new EventLog(bystander);
        expect(await emitWithAck(bystander, 'join-session', { sessionId: `bi-big-${size}` })).toEqual({ ok: true });
        const abuser = await t.socket();
        const closed = new Promise<string>((resolve) => abuser.once('disconnect', (reason) => resolve(reason)));
        let acknowledged = false;

        abuser.emit('join-session', { sessionId: 'a'.repeat(size) }, () => (acknowledged = true));

        expect(await closed).toBe('transport close');
        expect(acknowledged).toBe(false);
        expect(bystander.connected).toBe(true);
        expect((await t.request('POST', `/whatsapp-web/session/bi-big-${size}/sync-chats`)).status).toBe(200);
        await bystanderLog.waitFor('sync_chats_done');
        const again = await t.socket();
        expect(await emitWithAck(again, 'join-session', { sessionId: `bi-big-${size}` })).toEqual({ ok: true });
      });
    });
  });
});

describe('with API_KEY set', () => {
  let t: TestApp;
  const key = { 'x-api-key': 's3cret-key' };

  beforeAll(async () => {
    t = await TestApp.start({ account: account(), env: { API_KEY: 's3cret-key', RATE_LIMIT_MAX: '20' } });
  });
  afterAll(() => t.close());

  it('the dashboard page, its files, /docs and /health need no key; the API does', async () => {
    for (const path of ['/', '/index.html', '/style.css', '/app.js', '/docs', '/health', '/whatsapp-web/health']) {
      expect({ path, status: (await rawRequest(t.baseUrl, 'GET', path)).status }).toEqual({ path, status: 200 });
    }
    const refused = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions');
    expect({ status: refused.status, body: refused.body }).toEqual({
      status: 401,
      body: { statusCode: 401, error: 'Unauthorized', message: 'A valid x-api-key header is required' },
    });
    expect(refused.headers['content-security-policy']).toBe(EXPECTED_CSP);
    expect((await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions', { headers: key })).status).toBe(200);
  });

  it('a key that differs only in length or in its last character is refused', async () => {
    // (A trailing space would not count: HTTP strips it from header values.)
    for (const wrong of ['s3cret-ke', 's3cret-kez', 'S3cret-key', 's3cret-key-s3cret-key', 'x'.repeat(10_000)]) {
      expect((await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions', { headers: { 'x-api-key': wrong } })).status).toBe(401);
    }
  });

  it('the comparison is constant-time over hashes: right and wrong keys of any length, and non-strings', () => {
    expect(apiKeyMatches('k', 'k')).toBe(true);
    expect(apiKeyMatches('k', 'K')).toBe(false);
    expect(apiKeyMatches('k', 'k'.repeat(1000))).toBe(false);
    expect(apiKeyMatches('k', '')).toBe(false);
    expect(apiKeyMatches('k', undefined)).toBe(false);
    expect(apiKeyMatches('k', ['k'])).toBe(false);
  });

  it('guessing the key is rate limited too: past the limit, wrong keys get 429 instead of 401', async () => {
    const statuses: number[] = [];
    for (let n = 0; n < 25; n++) {
      statuses.push((await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions', { headers: { 'x-api-key': `guess-${n}` } })).status);
    }
    // The tests above made 7 API requests (pages, /docs and /health are not counted): 13 guesses remain.
    expect(statuses).toEqual([...Array(13).fill(401), ...Array(12).fill(429)]);
    const refused = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions', { headers: key });
    expect({ status: refused.status, retryAfter: Number(refused.headers['retry-after']) > 0 }).toEqual({ status: 429, retryAfter: true });
    expect((await rawRequest(t.baseUrl, 'GET', '/health')).status).toBe(200);
  });
});

describe('with CORS_ORIGINS set', () => {
  let t: TestApp;
  const ALLOWED = 'https://app.example';
  const OTHER = 'https://evil.example';

  beforeAll(async () => {
    t = await TestApp.start({ account: account(), env: { CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` } });
  });
  afterAll(() => t.close());

  it('a preflight from an allowed origin is answered with that origin, the methods and the x-api-key header', async () => {
    const answer = await rawRequest(t.baseUrl, 'OPTIONS', '/whatsapp-web/session/co-a/start', {
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key' },
    });
    expect(answer.status).toBe(204);
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': ALLOWED,
      'access-control-allow-headers': 'x-api-key',
      'access-control-allow-methods': 'GET,HEAD,PUT,PATCH,POST,DELETE',
    });
  });

  it('a request from an allowed origin is served with Access-Control-Allow-Origin', async () => {
    const answer = await rawRequest(t.baseUrl, 'POST', '/whatsapp-web/session/co-a/start', { headers: { origin: 'http://localhost:5173' } });
    expect(answer.status).toBe(201);
    expect(answer.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });

  it('a request or preflight from another origin is a JSON 403 that does nothing', async () => {
    for (const method of ['POST', 'OPTIONS']) {
      const answer = await rawRequest(t.baseUrl, method, '/whatsapp-web/session/co-evil/start', {
        headers: { origin: OTHER, 'access-control-request-method': 'POST' },
      });
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 403,
        body: { statusCode: 403, error: 'Forbidden', message: `Origin ${OTHER} is not allowed (CORS_ORIGINS)` },
      });
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    }
    for (const origin of ['null', 'https://app.example.evil.example', 'https://app.example:444', 'http://app.example']) {
      expect((await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions', { headers: { origin } })).status).toBe(403);
    }
    expect(await t.db.counts('co-evil')).toEqual({ sessions: 0, chats: 0, messages: 0, sync_runs: 0 });
  });

  it('the dashboard served by the service itself (same host) and clients that send no Origin are served', async () => {
    const sameHost = await rawRequest(t.baseUrl, 'POST', '/whatsapp-web/session/co-page/start', { headers: { origin: t.baseUrl } });
    expect(sameHost.status).toBe(201);
    expect((await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions')).status).toBe(200);
  });

  it('Socket.IO: an allowed origin, the same host, and no Origin connect; another origin is refused at the handshake', async () => {
    for (const headers of [{ origin: ALLOWED }, { origin: t.baseUrl }, {}] as Array<Record<string, string>>) {
      const socket = rawSocket(t.baseUrl, { extraHeaders: headers });
      try {
        await connected(socket);
        expect(await emitWithAck(socket, 'join-session', { sessionId: 'co-a' })).toEqual({ ok: true });
      } finally {
        socket.close();
      }
    }
    const refused = rawSocket(t.baseUrl, { extraHeaders: { origin: OTHER } });
    try {
      await expect(connected(refused)).rejects.toThrow();
      expect(refused.connected).toBe(false);
    } finally {
      refused.close();
    }
  });

  it('Socket.IO long-polling: the handshake answers an allowed origin with CORS headers, and another origin with 403', async () => {
    const allowed = await rawRequest(t.baseUrl, 'GET', '/socket.io/?EIO=4&transport=polling', { headers: { origin: ALLOWED } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(allowed.text).toMatch(/^0\{"sid":/);
    const other = await rawRequest(t.baseUrl, 'GET', '/socket.io/?EIO=4&transport=polling', { headers: { origin: OTHER } });
    expect(other.status).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('rate limits', () => {
  it('past RATE_LIMIT_MAX in the window, REST answers 429 {statusCode, error, message} with Retry-After; /health, the page and Socket.IO go on', async () => {
    const t = await TestApp.start({ account: account(), env: { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' } });
    try {
      // Five requests on different routes share one counter: the limit is per client, not per route.
      const answers = [
        await rawRequest(t.baseUrl, 'POST', '/whatsapp-web/session/rl-a/start'),
        await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions'),
        await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/session/rl-a'),
        await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/session/rl-none'),
        await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/session/bad.id'),
      ];
      expect(answers.map((a) => a.status)).toEqual([201, 200, 200, 404, 400]);
      expect(answers.map((a) => [a.headers['x-ratelimit-limit'], a.headers['x-ratelimit-remaining']])).toEqual([
        ['5', '4'],
        ['5', '3'],
        ['5', '2'],
        ['5', '1'],
        ['5', '0'],
      ]);

      const limited = await rawRequest(t.baseUrl, 'POST', '/whatsapp-web/session/rl-b/start');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(limited.status).toBe(429);
      expect(retryAfter).toBeGreaterThanOrEqual(59);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited.body).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        message: `Too many requests: at most 5 every minute per client; retry in ${retryAfter} s`,
      });
      expect(limited.headers['content-type']).toMatch(/^application\/json/);
      // The refused request did nothing.
      expect(await t.db.counts('rl-b')).toEqual({ sessions: 0, chats: 0, messages: 0, sync_runs: 0 });

      for (const path of ['/health', '/whatsapp-web/health', '/', '/app.js', '/docs']) {
        expect({ path, status: (await rawRequest(t.baseUrl, 'GET', path)).status }).toEqual({ path, status: 200 });
      }
      const socket = await t.socket();
      expect(await emitWithAck(socket, 'join-session', { sessionId: 'rl-a' })).toEqual({ ok: true });
      expect((await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions')).status).toBe(429);
    } finally {
      await t.close();
    }
  });

  it('the health check is never counted, however its path is written; other spellings are 404s that are not counted either', async () => {
    const t = await TestApp.start({ account: account(), env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '60000' } });
    try {
      const notFound = (path: string) => ({ statusCode: 404, error: 'Not Found', message: `Cannot GET ${path}` });
      const health = { status: 'ok', database: 'up', uptimeSeconds: expect.any(Number) };
      const answers = [];
      for (const path of ['/health', '/health/', '/whatsapp-web/health', '/whatsapp-web/health/', '/HEALTH', '/WHATSAPP-WEB/health', '/Whatsapp-Web/Health']) {
        for (let n = 0; n < 3; n++) {
          const answer = await rawRequest(t.baseUrl, 'GET', path);
          answers.push({ path, status: answer.status, body: answer.body, limit: answer.headers['x-ratelimit-limit'] });
        }
      }
      expect(answers).toEqual(
        [
          ...['/health', '/health/', '/whatsapp-web/health', '/whatsapp-web/health/'].flatMap((path) => Array(3).fill({ path, status: 200, body: health, limit: undefined })),
          ...['/HEALTH', '/WHATSAPP-WEB/health', '/Whatsapp-Web/Health'].flatMap((path) => Array(3).fill({ path, status: 404, body: notFound(path), limit: undefined })),
        ],
      );
      // None of them used the budget: both counted requests still pass.
      const counted = [await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions'), await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions/')];
      expect(counted.map((a) => [a.status, a.headers['x-ratelimit-remaining']])).toEqual([
        [200, '1'],
        [200, '0'],
      ]);
      expect((await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions')).status).toBe(429);
    } finally {
      await t.close();
    }
  });

  it('once the oldest request leaves the window, requests pass again', async () => {
    const t = await TestApp.start({ account: account(), env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '1000' } });
    try {
      expect((await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions')).status).toBe(200);
      expect((await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions')).status).toBe(200);
      const limited = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions');
      expect({ status: limited.status, retryAfter: limited.headers['retry-after'] }).toEqual({ status: 429, retryAfter: '1' });
      expect((limited.body as { message: string }).message).toBe('Too many requests: at most 2 every second per client; retry in 1 s');
      // Refused requests are not counted: polling does not push the retry further away.
      await waitFor(async () => (await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions')).status === 200, 'the window to move on', 5000);
    } finally {
      await t.close();
    }
  });

  it('counts each client IP apart: behind a trusted proxy (TRUST_PROXY) by X-Forwarded-For, otherwise by the socket address', async () => {
    const proxied = await TestApp.start({ account: account(), env: { RATE_LIMIT_MAX: '2', TRUST_PROXY: 'loopback' } });
    const direct = await TestApp.start({ account: account(), env: { RATE_LIMIT_MAX: '2' } });
    try {
      const from = (t: TestApp, ip: string) => rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions', { headers: { 'x-forwarded-for': ip } });
      const proxiedStatuses = [];
      for (const ip of ['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.2', '203.0.113.2', '203.0.113.2']) {
        proxiedStatuses.push((await from(proxied, ip)).status);
      }
      expect(proxiedStatuses).toEqual([200, 200, 429, 200, 200, 429]);

      // Without TRUST_PROXY a client cannot escape the limit by making up X-Forwarded-For.
      const directStatuses = [];
      for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) directStatuses.push((await from(direct, ip)).status);
      expect(directStatuses).toEqual([200, 200, 429]);
    } finally {
      await proxied.close();
      await direct.close();
    }
  });

  it('RATE_LIMIT_MAX=0 turns the limit off', async () => {
    const t = await TestApp.start({ account: account(), env: { RATE_LIMIT_MAX: '0' } });
    try {
      const statuses = await Promise.all(Array.from({ length: 50 }, () => rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions').then((a) => a.status)));
      expect(new Set(statuses)).toEqual(new Set([200]));
      expect((await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions')).headers['x-ratelimit-limit']).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});
