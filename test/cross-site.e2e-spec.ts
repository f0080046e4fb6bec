import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Browser, Page, chromium } from 'playwright-core';
import { io, Socket } from 'socket.io-client';
import { seedAccount } from './support/accounts';
import { rawRequest } from './support/raw-http';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * Issue #11, items 3 and 4: a page of another site must not make the service act, even with
 * requests that carry no `Origin` (`<img>`, links, `HEAD`), and the service's own origin comes from
 * its configuration (PUBLIC_URL, the listening address, CORS_ORIGINS), never from the request's
 * `Host` (DNS rebinding). Pages run in a real headless Chromium, as an attacker's page would.
 */

const CHROMIUM = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const NEVER_SCANNED = 10 * 60_000;
const LISTED = 'https://app.example';
const REBOUND = 'evil.example';

const account = () => ({ ...seedAccount(), scanAfterMs: NEVER_SCANNED });
const forbidden = (message: string) => ({ statusCode: 403, error: 'Forbidden', message });
const originRefused = (origin: string) => forbidden(`Origin ${origin} is not allowed (CORS_ORIGINS)`);
const crossSiteRefused = (site: string) => forbidden(`Cross-site request refused (Sec-Fetch-Site: ${site}, no Origin): only pages of the origins in CORS_ORIGINS may call the API`);
const blindSync = forbidden('A browser request with neither Origin nor Sec-Fetch-Site cannot sync (a page of another site could have made it): use POST sync-chats, or GET chats?sync=false');
const hostRefused = (host: string) => forbidden(`Host ${host} is not an address of this service (PUBLIC_URL, CORS_ORIGINS)`);

/** A tiny web server of "another site": serves `page` at `/` from its own address. */
class PageServer {
  page = '';
  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(host: string): Promise<PageServer> {
    let self: PageServer | undefined;
    const server = createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(self!.page);
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    self = new PageServer(server, `http://${host}:${(server.address() as AddressInfo).port}`);
    return self;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The attacker's page: an `<img>` on GET chats, then, from its script, HEAD chats, a fetch POST and a form POST to sync-chats. */
function attackPage(target: string, sessionId: string): string {
  const chats = `${target}/whatsapp-web/session/${sessionId}/chats?limitPerChat=7`;
  const sync = `${target}/whatsapp-web/session/${sessionId}/sync-chats?limitPerChat=7`;
  return `<!doctype html><title>another site</title>
<img id="img" src="${chats}">
<iframe name="sink"></iframe>
<form id="form" method="POST" target="sink" action="${sync}"></form>
<script>
  window.attack = async () => {
    await fetch(${JSON.stringify(chats)}, { method: 'HEAD', mode: 'no-cors' }).catch(() => undefined);
    await fetch(${JSON.stringify(sync)}, { method: 'POST', mode: 'no-cors' }).catch(() => undefined);
    document.getElementById('form').submit();
  };
</script>`;
}

interface Seen {
  method: string;
  path: string;
  status: number;
  secFetchSite: string | undefined;
  origin: string | undefined;
}

/**
 * Records what reaches the service from now on, as the service saw it: the browser's own headers and
 * the status of the answer. (The page itself cannot see most of it: helmet's
 * Cross-Origin-Resource-Policy makes the browser drop the answers to another site's `<img>` and
 * no-cors fetches, which still reach the service.) `stop()` ends the recording.
 */
function recordServed(t: TestApp): { seen: Seen[]; stop: () => void } {
  const seen: Seen[] = [];
  const server = t.app.getHttpServer() as Server;
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    if (!request.url?.startsWith('/whatsapp-web/')) return;
    const entry = {
      method: request.method ?? '',
      path: request.url,
      secFetchSite: request.headers['sec-fetch-site'] as string | undefined,
      origin: request.headers.origin,
    };
    response.once('finish', () => seen.push({ ...entry, status: response.statusCode }));
  };
  server.on('request', listener);
  return { seen, stop: () => server.off('request', listener) };
}

/** Starts a session, scans its QR and waits until it is ready. */
async function readySession(t: TestApp, sessionId: string, headers: Record<string, string> = {}): Promise<void> {
  expect((await t.request('POST', `/whatsapp-web/session/${sessionId}/start`, { headers })).status).toBe(201);
  t.whatsapp.clientOf(sessionId)!.scan();
  await waitFor(async () => (await t.request<{ status: string }>('GET', `/whatsapp-web/session/${sessionId}`, { headers })).body.status === 'ready', `${sessionId} ready`);
}

/** The dashboard at `base` starts `sessionId`, shows its QR, and shows `ready` once the phone scans. */
async function loginFromDashboard(t: TestApp, page: Page, base: string, sessionId: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.fill('#new-session', sessionId);
  await page.click('#start-button');
  await page.locator('#qr[src^="data:image/png;base64,"]').waitFor();
  // Only Socket.IO tells the page that the scan happened.
  t.whatsapp.clientOf(sessionId)!.scan();
  await page.locator('#status', { hasText: 'ready' }).waitFor();
}

function rawSocket(baseUrl: string, extraHeaders: Record<string, string>, auth?: Record<string, string>): Socket {
  return io(baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders, auth });
}

/** Whether a Socket.IO handshake with these headers (and this `auth`) connects. */
async function socketConnects(baseUrl: string, extraHeaders: Record<string, string>, auth?: Record<string, string>): Promise<boolean> {
  const socket = rawSocket(baseUrl, extraHeaders, auth);
  try {
    return await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('connect_error', () => resolve(false));
    });
  } finally {
    socket.close();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run', ...extraArgs],
  });
}

describe('with CORS_ORIGINS set and no API_KEY: pages of other sites', () => {
  let t: TestApp;
  let browser: Browser;
  let crossSite: PageServer;
  let sameSite: PageServer;
  let listed: PageServer;

  beforeAll(async () => {
    // 127.0.0.2 is another site than 127.0.0.1; 127.0.0.1 on another port is the same site.
    crossSite = await PageServer.start('127.0.0.2');
    sameSite = await PageServer.start('127.0.0.1');
    listed = await PageServer.start('127.0.0.3');
    t = await TestApp.start({ account: account(), env: { CORS_ORIGINS: `${LISTED}, ${listed.origin}` } });
    browser = await launchChromium([`--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await Promise.all([crossSite, sameSite, listed].map((server) => server?.close()));
  });

  const runs = async (sessionId: string) => (await t.db.counts(sessionId)).sync_runs;

  it.each([
    ['another site (127.0.0.2)', () => crossSite, 'cross-site'],
    ['the same site on another port (127.0.0.1)', () => sameSite, 'same-site'],
  ])('a page of %s: its <img> on GET chats, HEAD chats, fetch POST and form POST sync-chats are all refused (403), and no sync runs', async (_what, server, site) => {
    const sessionId = `xs-${site}`;
    await readySession(t, sessionId);
    server().page = attackPage(t.baseUrl, sessionId);
    const page = await browser.newPage();
    const record = recordServed(t);

    await page.goto(`${server().origin}/`);
    await page.evaluate('window.attack()');
    await waitFor(() => record.seen.length >= 4, 'the four requests of the page to be answered');
    await page.close();
    record.stop();

    const chats = `/whatsapp-web/session/${sessionId}/chats?limitPerChat=7`;
    const sync = `/whatsapp-web/session/${sessionId}/sync-chats?limitPerChat=7`;
    const origin = server().origin;
    expect(record.seen).toEqual([
      { method: 'GET', path: chats, status: 403, secFetchSite: site, origin: undefined },
      { method: 'HEAD', path: chats, status: 403, secFetchSite: site, origin: undefined },
      { method: 'POST', path: sync, status: 403, secFetchSite: site, origin },
      { method: 'POST', path: sync, status: 403, secFetchSite: site, origin },
    ]);
    expect(await runs(sessionId)).toBe(0);
    const latest = await rawRequest(t.baseUrl, 'GET', `/whatsapp-web/session/${sessionId}/sync-chats/latest`);
    expect({ status: latest.status, body: latest.body }).toEqual({
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: `No synchronization has run for session ${sessionId}` },
    });
  });

  it('a page of a listed origin may sync with fetch (its requests carry Origin), but its <img> is refused like any other site\'s', async () => {
    const sessionId = 'xs-listed';
    await readySession(t, sessionId);
    listed.page = `<!doctype html><title>listed</title><img src="${t.baseUrl}/whatsapp-web/session/${sessionId}/chats?limitPerChat=7">`;
    const page = await browser.newPage();
    const record = recordServed(t);
    await page.goto(`${listed.origin}/`);
    const answer = await page.evaluate(`fetch(${JSON.stringify(`${t.baseUrl}/whatsapp-web/session/${sessionId}/sync-chats?limitPerChat=7`)}, { method: 'POST' }).then(async (r) => ({ status: r.status, body: await r.json() }))`);
    await page.close();
    record.stop();

    expect(answer).toEqual({ status: 200, body: expect.objectContaining({ success: true, chatsProcessed: 3 }) });
    expect(record.seen.map(({ method, status, secFetchSite, origin }) => ({ method, status, secFetchSite, origin }))).toEqual([
      { method: 'GET', status: 403, secFetchSite: 'cross-site', origin: undefined },
      { method: 'POST', status: 200, secFetchSite: 'cross-site', origin: listed.origin },
    ]);
    expect(await runs(sessionId)).toBe(1);
  });

  it('DNS rebinding in the browser: a page at http://evil.example:PORT that resolves to the service is refused on REST and on the Socket.IO handshake', async () => {
    const sessionId = 'xs-rebound';
    await readySession(t, sessionId);
    const port = new URL(t.baseUrl).port;
    const rebound = `http://${REBOUND}:${port}`;
    const page = await browser.newPage();
    // The rebound name serves the service's own (static) page; its script then acts as the attacker's would.
    await page.goto(`${rebound}/`);
    const answers = await page.evaluate(`(async () => {
      const answer = async (r) => ({ status: r.status, body: await r.json() });
      const socket = await new Promise((resolve) => {
        const ws = new WebSocket('ws://${REBOUND}:${port}/socket.io/?EIO=4&transport=websocket');
        ws.onopen = () => { ws.close(); resolve('open'); };
        ws.onerror = () => resolve('refused');
      });
      return {
        chats: await answer(await fetch('/whatsapp-web/session/${sessionId}/chats?limitPerChat=7')),
        sync: await answer(await fetch('/whatsapp-web/session/${sessionId}/sync-chats?limitPerChat=7', { method: 'POST' })),
        socket,
      };
    })()`);
    await page.close();

    expect(answers).toEqual({
      chats: { status: 403, body: hostRefused(`${REBOUND}:${port}`) },
      sync: { status: 403, body: originRefused(rebound) },
      socket: 'refused',
    });
    expect(await runs(sessionId)).toBe(0);
  });

  it.each([
    ['127.0.0.1', 'ip'],
    ['localhost', 'name'],
  ])('the dashboard served by the service itself at http://%s:PORT still works: start, QR, live status over Socket.IO', async (hostname, name) => {
    const base = `http://${hostname}:${new URL(t.baseUrl).port}`;
    const sessionId = `xs-page-${name}`;
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const record = recordServed(t);
    await loginFromDashboard(t, page, base, sessionId);
    expect(await page.locator('#error').isHidden()).toBe(true);
    await page.close();
    record.stop();
    expect(errors).toEqual([]);
    const answers = record.seen;
    // (A 409 of GET qr may come when the page asks for the QR as the scan is made: that is the page's own race.)
    expect(answers.filter((answer) => answer.status === 403 || answer.status === 401)).toEqual([]);
    expect(answers.find((answer) => answer.method === 'POST')).toEqual({ method: 'POST', path: `/whatsapp-web/session/${sessionId}/start`, status: 201, secFetchSite: 'same-origin', origin: base });
  });

  describe('the rule, request by request', () => {
    const get = (path: string, headers: Record<string, string>) => rawRequest(t.baseUrl, 'GET', path, { headers });

    it.each([['cross-site'], ['same-site'], ['something-new']])('Sec-Fetch-Site: %s without Origin on GET chats is a 403 and does not sync', async (site) => {
      const sessionId = `xs-rule-${site}`;
      await readySession(t, sessionId);
      const answer = await get(`/whatsapp-web/session/${sessionId}/chats?limitPerChat=7`, { 'sec-fetch-site': site });
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 403, body: crossSiteRefused(site) });
      expect(await runs(sessionId)).toBe(0);
    });

    it('every API route is covered, reads included; /health and the static files are not', async () => {
      for (const path of ['/whatsapp-web/sessions', '/whatsapp-web/session/xs-none', '/whatsapp-web/session/xs-none/qr']) {
        const answer = await get(path, { 'sec-fetch-site': 'cross-site' });
        expect({ path, status: answer.status, body: answer.body }).toEqual({ path, status: 403, body: crossSiteRefused('cross-site') });
      }
      for (const path of ['/health', '/whatsapp-web/health', '/', '/app.js', '/docs', '/docs-json']) {
        expect({ path, status: (await get(path, { 'sec-fetch-site': 'cross-site' })).status }).toEqual({ path, status: 200 });
      }
    });

    it('a cross-site or same-site request whose Origin is listed passes; one from an unlisted Origin does not', async () => {
      const sessionId = 'xs-rule-listed';
      await readySession(t, sessionId);
      const allowed = await get(`/whatsapp-web/session/${sessionId}/chats?limitPerChat=7`, { 'sec-fetch-site': 'cross-site', origin: LISTED });
      expect(allowed.status).toBe(200);
      expect(allowed.headers['access-control-allow-origin']).toBe(LISTED);
      expect(await runs(sessionId)).toBe(1);
      const other = await get(`/whatsapp-web/session/${sessionId}/chats?limitPerChat=7`, { 'sec-fetch-site': 'same-site', origin: 'https://other.app.example' });
      expect({ status: other.status, body: other.body }).toEqual({ status: 403, body: originRefused('https://other.app.example') });
      expect(await runs(sessionId)).toBe(1);
    });

    it('Sec-Fetch-Site: none (a typed URL), same-origin to the listening address, and no Sec-Fetch-Site at all (curl) pass', async () => {
      const sessionId = 'xs-rule-pass';
      await readySession(t, sessionId);
      const chats = `/whatsapp-web/session/${sessionId}/chats?limitPerChat=7`;
      expect((await get(chats, { 'sec-fetch-site': 'none' })).status).toBe(200);
      expect((await get(chats, { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
      expect((await get(chats, { 'sec-fetch-site': 'same-origin', host: `localhost:${new URL(t.baseUrl).port}` })).status).toBe(200);
      expect((await get(chats, {})).status).toBe(200);
      expect(await runs(sessionId)).toBe(4);
    });

    it('Socket.IO: a handshake marked cross-site without a listed Origin is refused; a listed Origin connects', async () => {
      expect(await socketConnects(t.baseUrl, { 'sec-fetch-site': 'cross-site' })).toBe(false);
      expect(await socketConnects(t.baseUrl, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' })).toBe(false);
      expect(await socketConnects(t.baseUrl, { 'sec-fetch-site': 'cross-site', origin: LISTED })).toBe(true);
      expect(await socketConnects(t.baseUrl, { 'sec-fetch-site': 'same-origin', origin: t.baseUrl })).toBe(true);
    });
  });
});

describe('over plain http under a name, where browsers send no Fetch Metadata (PUBLIC_URL=http://wa.lan:PORT)', () => {
  let t: TestApp;
  let browser: Browser;
  let attacker: PageServer;
  let base: string;

  beforeAll(async () => {
    attacker = await PageServer.start('127.0.0.2');
    const port = await freePort();
    base = `http://wa.lan:${port}`;
    t = await TestApp.start({ account: account(), port, env: { CORS_ORIGINS: LISTED, PUBLIC_URL: base } });
    // Names, not loopback addresses: Chromium sends Sec-Fetch-* only to https and loopback URLs.
    browser = await launchChromium(['--host-resolver-rules=MAP wa.lan 127.0.0.1, MAP attacker.example 127.0.0.2']);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await attacker?.close();
  });

  it('a page of http://attacker.example: its <img> on GET chats and its POSTs are refused (403), HEAD answers without syncing; no sync runs', async () => {
    const sessionId = 'ph-attack';
    await readySession(t, sessionId);
    attacker.page = attackPage(base, sessionId);
    const page = await browser.newPage();
    const record = recordServed(t);
    await page.goto(`${attacker.origin.replace('127.0.0.2', 'attacker.example')}/`);
    await page.evaluate('window.attack()');
    await waitFor(() => record.seen.length >= 4, 'the four requests of the page to be answered');
    await page.close();
    record.stop();

    const chats = `/whatsapp-web/session/${sessionId}/chats?limitPerChat=7`;
    const sync = `/whatsapp-web/session/${sessionId}/sync-chats?limitPerChat=7`;
    const origin = attacker.origin.replace('127.0.0.2', 'attacker.example');
    expect(record.seen).toEqual([
      { method: 'GET', path: chats, status: 403, secFetchSite: undefined, origin: undefined },
      { method: 'HEAD', path: chats, status: 200, secFetchSite: undefined, origin: undefined },
      { method: 'POST', path: sync, status: 403, secFetchSite: undefined, origin },
      { method: 'POST', path: sync, status: 403, secFetchSite: undefined, origin },
    ]);
    expect((await t.db.counts(sessionId)).sync_runs).toBe(0);
    expect((await rawRequest(t.baseUrl, 'GET', `/whatsapp-web/session/${sessionId}/sync-chats/latest`)).status).toBe(404);
  });

  it('GET chats typed into the browser is refused with a message that says what to use; ?sync=false is served', async () => {
    const sessionId = 'ph-typed';
    await readySession(t, sessionId);
    const page = await browser.newPage();
    const refused = await page.goto(`${base}/whatsapp-web/session/${sessionId}/chats?limitPerChat=7`);
    expect({ status: refused!.status(), body: await refused!.json() }).toEqual({ status: 403, body: blindSync });
    // Express routes paths whatever their case, and with a trailing slash: so does the rule.
    for (const path of [`/WHATSAPP-WEB/Session/${sessionId}/CHATS`, `/whatsapp-web/session/${sessionId}/chats/`]) {
      const variant = await page.goto(`${base}${path}`);
      expect({ path, status: variant!.status(), body: await variant!.json() }).toEqual({ path, status: 403, body: blindSync });
    }
    // It does not decode the path before routing: an encoded letter reaches no route at all.
    expect((await page.goto(`${base}/whatsapp-web/session/${sessionId}/%63hats`))!.status()).toBe(404);
    const stored = await page.goto(`${base}/whatsapp-web/session/${sessionId}/chats?sync=false`);
    expect({ status: stored!.status(), body: await stored!.json() }).toEqual({ status: 200, body: [] });
    await page.close();
    expect((await t.db.counts(sessionId)).sync_runs).toBe(0);
  });

  it('the dashboard at PUBLIC_URL works: start, QR, live status over Socket.IO, and a sync with its button', async () => {
    const sessionId = 'ph-page';
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const record = recordServed(t);
    await loginFromDashboard(t, page, base, sessionId);
    await page.click('#sync-button');
    await page.locator('#summary:not([hidden])').waitFor();
    expect(await page.locator('#error').isHidden()).toBe(true);
    await page.close();
    record.stop();
    expect(errors).toEqual([]);
    expect(record.seen.filter((answer) => answer.status === 403 || answer.status === 401)).toEqual([]);
    expect(record.seen.find((answer) => answer.method === 'POST' && answer.path.includes('/sync-chats'))).toEqual({
      method: 'POST',
      path: `/whatsapp-web/session/${sessionId}/sync-chats?limitPerChat=100`,
      status: 200,
      secFetchSite: undefined,
      origin: base,
    });
    expect((await t.db.counts(sessionId)).sync_runs).toBe(1);
  });
});

describe('DNS rebinding: the Host header is not the service\'s origin', () => {
  const KEY = { 'x-api-key': 'the-key' };
  const HOST = `${REBOUND}:4103`;
  const ORIGIN = `http://${HOST}`;
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: account(), env: { API_KEY: 'the-key', CORS_ORIGINS: LISTED } });
  });
  afterAll(() => t.close());

  it('Host: evil.example:4103 with Origin: http://evil.example:4103 is a JSON 403, even with the key', async () => {
    const answer = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions', { headers: { ...KEY, host: HOST, origin: ORIGIN } });
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 403, body: originRefused(ORIGIN) });
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
  });

  it('a sync from the rebound origin is refused and nothing runs; a same-origin GET chats under the rebound Host too', async () => {
    await readySession(t, 'dr-a', KEY);
    const sync = await rawRequest(t.baseUrl, 'POST', '/whatsapp-web/session/dr-a/sync-chats', { headers: { ...KEY, host: HOST, origin: ORIGIN, 'sec-fetch-site': 'same-origin' } });
    expect({ status: sync.status, body: sync.body }).toEqual({ status: 403, body: originRefused(ORIGIN) });
    const chats = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/session/dr-a/chats?limitPerChat=7', { headers: { ...KEY, host: HOST, 'sec-fetch-site': 'same-origin' } });
    expect({ status: chats.status, body: chats.body }).toEqual({ status: 403, body: hostRefused(HOST) });
    expect((await t.db.counts('dr-a')).sync_runs).toBe(0);
  });

  it('the listening address is still the service\'s own origin, whatever Host says', async () => {
    const own = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions', { headers: { ...KEY, host: HOST, origin: t.baseUrl } });
    expect(own.status).toBe(200);
  });

  it('Socket.IO: a WebSocket handshake with the forged Host and Origin is refused, even with the key; with the listening origin it connects', async () => {
    const auth = { apiKey: 'the-key' };
    expect(await socketConnects(t.baseUrl, { host: HOST, origin: ORIGIN }, auth)).toBe(false);
    expect(await socketConnects(t.baseUrl, { host: HOST, 'sec-fetch-site': 'same-origin' }, auth)).toBe(false);
    expect(await socketConnects(t.baseUrl, { host: HOST, origin: t.baseUrl }, auth)).toBe(true);
  });

  it('Socket.IO long-polling: the handshake with the forged Host and Origin is a 403', async () => {
    const answer = await rawRequest(t.baseUrl, 'GET', '/socket.io/?EIO=4&transport=polling', { headers: { host: HOST, origin: ORIGIN } });
    expect(answer.status).toBe(403);
    const own = await rawRequest(t.baseUrl, 'GET', '/socket.io/?EIO=4&transport=polling', { headers: { host: HOST, origin: t.baseUrl } });
    expect(own.status).toBe(200);
    expect(answer.text).not.toMatch(/"sid"/);
  });
});

describe('PUBLIC_URL', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: account(), env: { CORS_ORIGINS: LISTED, PUBLIC_URL: 'https://wa.example.com/' } });
  });
  afterAll(() => t.close());

  it('its origin is the service\'s own: requests from it pass, by Origin and by Host (behind a proxy that keeps Host)', async () => {
    const byOrigin = await rawRequest(t.baseUrl, 'POST', '/whatsapp-web/session/pu-a/start', { headers: { origin: 'https://wa.example.com', 'sec-fetch-site': 'same-origin' } });
    expect(byOrigin.status).toBe(201);
    const byHost = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/session/pu-a', { headers: { host: 'wa.example.com', 'sec-fetch-site': 'same-origin' } });
    expect(byHost.status).toBe(200);
  });

  it('another scheme, port or name is not', async () => {
    for (const origin of ['http://wa.example.com', 'https://wa.example.com:8443', 'https://evil.wa.example.com']) {
      const answer = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions', { headers: { origin } });
      expect({ origin, status: answer.status, body: answer.body }).toEqual({ origin, status: 403, body: originRefused(origin) });
    }
    const host = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/sessions', { headers: { host: 'wa.example.com:8443', 'sec-fetch-site': 'same-origin' } });
    expect({ status: host.status, body: host.body }).toEqual({ status: 403, body: hostRefused('wa.example.com:8443') });
  });
});

describe('HEAD on GET chats never synchronizes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: account() });
  });
  afterAll(() => t.close());

  it('it answers as GET chats?sync=false would: the headers of the stored list, 404 for an unknown session, 400 for bad input', async () => {
    await readySession(t, 'hd-a');
    const head = await rawRequest(t.baseUrl, 'HEAD', '/whatsapp-web/session/hd-a/chats?limitPerChat=7');
    const stored = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/session/hd-a/chats?sync=false');
    expect({ status: head.status, text: head.text, length: head.headers['content-length'], type: head.headers['content-type'] }).toEqual({
      status: 200,
      text: '',
      length: stored.headers['content-length'],
      type: stored.headers['content-type'],
    });
    expect(stored.body).toEqual([]);
    for (const query of ['', '?sync=true', '?limitPerChat=7&sync=true']) {
      expect((await rawRequest(t.baseUrl, 'HEAD', `/whatsapp-web/session/hd-a/chats${query}`)).status).toBe(200);
    }
    expect((await rawRequest(t.baseUrl, 'HEAD', '/whatsapp-web/session/hd-none/chats')).status).toBe(404);
    expect((await rawRequest(t.baseUrl, 'HEAD', '/whatsapp-web/session/hd-a/chats?limitPerChat=0')).status).toBe(400);
    expect((await t.db.counts('hd-a')).sync_runs).toBe(0);
    expect((await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/session/hd-a/sync-chats/latest')).status).toBe(404);
  });

  it('once a sync stored chats, HEAD has the length of that list', async () => {
    await readySession(t, 'hd-b');
    expect((await t.request('POST', '/whatsapp-web/session/hd-b/sync-chats')).status).toBe(200);
    const head = await rawRequest(t.baseUrl, 'HEAD', '/whatsapp-web/session/hd-b/chats');
    const stored = await rawRequest(t.baseUrl, 'GET', '/whatsapp-web/session/hd-b/chats?sync=false');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(Buffer.byteLength(stored.text));
    expect((await t.db.counts('hd-b')).sync_runs).toBe(1);
  });
});
