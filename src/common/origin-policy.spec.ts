import { originAllowed } from './origin-policy';

const list = { corsOrigins: ['https://app.example', 'http://localhost:5173'] };
const request = (origin: string | undefined, host = 'wa.internal:3000') => ({ headers: { origin, host } });

describe('originAllowed', () => {
  it('allows everything with CORS_ORIGINS=*', () => {
    expect(originAllowed({ corsOrigins: '*' }, request('https://evil.example'))).toBe(true);
  });

  it('allows requests without Origin (not a browser\'s cross-site request)', () => {
    expect(originAllowed(list, request(undefined))).toBe(true);
  });

  it('allows listed origins, compared exactly', () => {
    expect(originAllowed(list, request('https://app.example'))).toBe(true);
    expect(originAllowed(list, request('http://localhost:5173'))).toBe(true);
    for (const origin of ['http://app.example', 'https://app.example:8443', 'https://app.example.evil.example', 'https://APP.example.', 'null', '']) {
      expect({ origin, allowed: originAllowed(list, request(origin)) }).toEqual({ origin, allowed: false });
    }
  });

  it('allows the service\'s own host (its dashboard), whatever the scheme, and nothing that only looks like it', () => {
    expect(originAllowed(list, request('http://wa.internal:3000'))).toBe(true);
    expect(originAllowed(list, request('https://wa.internal:3000'))).toBe(true);
    expect(originAllowed(list, request('http://wa.internal:3001'))).toBe(false);
    expect(originAllowed(list, request('http://wa.internal'))).toBe(false);
    expect(originAllowed(list, { headers: { origin: 'http://wa.internal:3000' } })).toBe(false);
    expect(originAllowed(list, request('not a url'))).toBe(false);
  });
});
