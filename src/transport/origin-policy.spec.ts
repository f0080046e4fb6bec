import { OriginPolicy, OriginRules, originRefusal, ownOrigins } from './origin-policy';

const OWN = ['https://wa.example.com', 'http://localhost:3000', 'http://127.0.0.1:3000'];
const rules: OriginRules = { corsOrigins: ['https://app.example', 'http://localhost:5173'], ownOrigins: OWN };
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const request = (headers: Record<string, string | undefined>, url = '/whatsapp-web/session/s/chats', method = 'GET') => ({ headers: { host: 'wa.internal:3000', ...headers }, url, method });
const refusal = (headers: Record<string, string | undefined>, url?: string, method?: string) => originRefusal(rules, request(headers, url, method));

const originRefused = (origin: string) => `Origin ${origin} is not allowed (CORS_ORIGINS)`;
const crossSite = (site: string) => `Cross-site request refused (Sec-Fetch-Site: ${site}, no Origin): only pages of the origins in CORS_ORIGINS may call the API`;
const hostRefused = (host: string) => `Host ${host} is not an address of this service (PUBLIC_URL, CORS_ORIGINS)`;
const blindSync = 'A browser request with neither Origin nor Sec-Fetch-Site cannot sync (a page of another site could have made it): use POST sync-chats, or GET chats?sync=false';

describe('originRefusal', () => {
  it('lets everything through with CORS_ORIGINS=*', () => {
    const open: OriginRules = { corsOrigins: '*', ownOrigins: OWN };
    expect(originRefusal(open, request({ origin: 'https://evil.example' }))).toBeUndefined();
    expect(originRefusal(open, request({ 'sec-fetch-site': 'cross-site' }))).toBeUndefined();
    expect(originRefusal(open, request({ 'sec-fetch-site': 'same-origin', host: 'evil.example:3000' }))).toBeUndefined();
  });

  it('passes requests with neither Origin nor Sec-Fetch-Site nor a browser\'s User-Agent (curl, servers), whatever their Host', () => {
    expect(refusal({})).toBeUndefined();
    expect(refusal({ host: 'evil.example:3000', 'user-agent': 'curl/8.5.0' })).toBeUndefined();
    expect(refusal({ host: 'evil.example:3000', 'user-agent': 'node', 'sec-fetch-mode': 'cors' })).toBeUndefined();
  });

  it('a browser that sends no Fetch Metadata (plain http to a name): Host must be configured, and GET chats may not sync', () => {
    const browser = (host: string) => ({ 'user-agent': BROWSER, host });
    expect(refusal(browser('evil.example:3000'), '/whatsapp-web/sessions')).toBe(hostRefused('evil.example:3000'));
    expect(refusal(browser('wa.example.com'), '/whatsapp-web/sessions')).toBeUndefined();
    for (const url of ['/whatsapp-web/session/s/chats', '/WHATSAPP-WEB/Session/s/CHATS', '/whatsapp-web/session/s/chats?limitPerChat=7', '/whatsapp-web/session/s/chats?SYNC=false', '/whatsapp-web/session/s/chats/?sync=true', '/whatsapp-web/session/s/chats?sync=false&sync=false']) {
      expect({ url, refusal: refusal(browser('wa.example.com'), url) }).toEqual({ url, refusal: blindSync });
    }
    expect(refusal(browser('wa.example.com'), '/whatsapp-web/session/s/chats?sync=false')).toBeUndefined();
    expect(refusal(browser('wa.example.com'), '/whatsapp-web/session/s/chats?limitPerChat=7', 'HEAD')).toBeUndefined();
    expect(refusal(browser('wa.example.com'), '/whatsapp-web/session/s/chats/c1@c.us/messages')).toBeUndefined();
    // With Fetch Metadata the browser says what it is: same-origin GET chats syncs.
    expect(refusal({ ...browser('wa.example.com'), 'sec-fetch-site': 'same-origin' })).toBeUndefined();
    expect(refusal({ ...browser('wa.example.com'), 'sec-fetch-site': 'none' })).toBeUndefined();
  });

  it('with Origin: listed and own origins pass, compared exactly; nothing else does', () => {
    for (const origin of [...rules.corsOrigins, ...OWN]) expect({ origin, refusal: refusal({ origin, 'sec-fetch-site': 'cross-site' }) }).toEqual({ origin, refusal: undefined });
    for (const origin of ['http://app.example', 'https://app.example:8443', 'https://app.example.evil.example', 'https://APP.example.', 'null', '', 'http://wa.example.com', 'https://localhost:3000']) {
      expect({ origin, refusal: refusal({ origin }) }).toEqual({ origin, refusal: originRefused(origin) });
    }
  });

  it('never takes the own origin from Host: Origin and Host of a rebound name are refused', () => {
    expect(refusal({ origin: 'http://evil.example:4103', host: 'evil.example:4103' })).toBe(originRefused('http://evil.example:4103'));
    expect(refusal({ origin: 'http://wa.internal:3000', host: 'wa.internal:3000', 'sec-fetch-site': 'same-origin' })).toBe(originRefused('http://wa.internal:3000'));
  });

  it('without Origin: Sec-Fetch-Site none passes; cross-site, same-site and unknown values are refused', () => {
    expect(refusal({ 'sec-fetch-site': 'none' })).toBeUndefined();
    for (const site of ['cross-site', 'same-site', 'whatever']) expect(refusal({ 'sec-fetch-site': site })).toBe(crossSite(site));
  });

  it('without Origin, same-origin passes only when Host is the host of an own or listed origin', () => {
    for (const host of ['wa.example.com', 'WA.example.com', 'localhost:3000', '127.0.0.1:3000', 'app.example']) {
      expect({ host, refusal: refusal({ 'sec-fetch-site': 'same-origin', host }) }).toEqual({ host, refusal: undefined });
    }
    for (const host of ['evil.example:4103', 'wa.internal:3000', 'localhost:3001', 'wa.example.com:8443']) {
      expect({ host, refusal: refusal({ 'sec-fetch-site': 'same-origin', host }) }).toEqual({ host, refusal: hostRefused(host) });
    }
    expect(refusal({ 'sec-fetch-site': 'same-origin', host: undefined })).toBe(hostRefused('(none)'));
  });

  it('the rules without Origin spare /health and /docs, judged by the raw path as Express routes it; the Origin rule spares nothing', () => {
    for (const path of ['/health', '/health?probe=1', '/whatsapp-web/health', '/docs', '/docs-json', '/docs/swagger-ui.css']) {
      expect({ path, refusal: refusal({ 'sec-fetch-site': 'cross-site' }, path) }).toEqual({ path, refusal: undefined });
      expect({ path, refusal: refusal({ 'sec-fetch-site': 'same-origin', host: 'evil.example' }, path) }).toEqual({ path, refusal: undefined });
    }
    expect(refusal({ 'user-agent': BROWSER, host: 'evil.example' }, '/health')).toBeUndefined();
    expect(refusal({ origin: 'https://evil.example' }, '/health')).toBe(originRefused('https://evil.example'));
    for (const path of ['/whatsapp-web/sessions', '/socket.io/', '/healthz', '/docsx', '/whatsapp-web/session/health', '/whatsapp-web/session/a\\..\\..\\..\\docs\\x/chats', '//docs/../whatsapp-web/sessions']) {
      expect({ path, refusal: refusal({ 'sec-fetch-site': 'cross-site' }, path) }).toEqual({ path, refusal: crossSite('cross-site') });
    }
  });
});

describe('ownOrigins', () => {
  it('is PUBLIC_URL\'s origin and the http:// origins of the listening address, never anything of a request', () => {
    expect(ownOrigins(undefined, null)).toEqual([]);
    expect(ownOrigins('https://wa.example.com', null)).toEqual(['https://wa.example.com']);
    expect(ownOrigins(undefined, { address: '0.0.0.0', family: 'IPv4', port: 3000 })).toEqual(['http://localhost:3000', 'http://127.0.0.1:3000']);
    expect(ownOrigins('https://wa.example.com', { address: '::', family: 'IPv6', port: 3000 })).toEqual([
      'https://wa.example.com',
      'http://localhost:3000',
      'http://127.0.0.1:3000',
      'http://[::1]:3000',
    ]);
    expect(ownOrigins(undefined, { address: '127.0.0.1', family: 'IPv4', port: 80 })).toEqual(['http://localhost', 'http://127.0.0.1']);
    expect(ownOrigins(undefined, { address: '::1', family: 'IPv6', port: 3000 })).toEqual(['http://localhost:3000', 'http://[::1]:3000']);
    // Bound to one other address: that address only (a loopback name would be another program's).
    expect(ownOrigins(undefined, { address: '192.168.1.20', family: 'IPv4', port: 3000 })).toEqual(['http://192.168.1.20:3000']);
    expect(ownOrigins(undefined, { address: 'fd00::7', family: 'IPv6', port: 3000 })).toEqual(['http://[fd00::7]:3000']);
  });
});

describe('OriginPolicy', () => {
  it('learns its listening origins once the server listens, and the handshake path from the URL', () => {
    let address: { address: string; family: string; port: number } | null = null;
    const policy = new OriginPolicy({ corsOrigins: ['https://app.example'], publicOrigin: undefined }, () => address);
    expect(policy.ownOrigins()).toEqual([]);
    address = { address: '127.0.0.1', family: 'IPv4', port: 4000 };
    expect(policy.ownOrigins()).toEqual(['http://localhost:4000', 'http://127.0.0.1:4000']);
    const handshake = (headers: Record<string, string>) => ({ url: '/socket.io/?EIO=4&transport=websocket', headers }) as never;
    expect(policy.allowsHandshake(handshake({ origin: 'http://127.0.0.1:4000' }))).toBe(true);
    expect(policy.allowsHandshake(handshake({ origin: 'http://evil.example:4000', host: 'evil.example:4000' }))).toBe(false);
    expect(policy.allowsHandshake(handshake({ 'sec-fetch-site': 'same-origin', host: 'evil.example:4000' }))).toBe(false);
    expect(policy.allowsHandshake(handshake({ 'sec-fetch-site': 'cross-site' }))).toBe(false);
    expect(policy.allowsHandshake(handshake({}))).toBe(true);
  });
});
