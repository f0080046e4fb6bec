import { decodeCursor, encodeCursor } from './message-cursor';

const b64 = (text: string) => Buffer.from(text).toString('base64url');

describe('message cursor', () => {
  it.each([
    { timestamp: 0, id: 0 },
    { timestamp: 1764150000, id: 1 },
    { timestamp: 32503680000, id: 987654321 },
    { timestamp: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER },
  ])('round-trips %j', (cursor) => {
    const encoded = encodeCursor(cursor);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(encoded)).toEqual(cursor);
  });

  it('is opaque base64url of [timestamp, id]', () => {
    expect(encodeCursor({ timestamp: 1764150000, id: 42 })).toBe(b64('[1764150000,42]'));
  });

  it.each([
    ['empty', ''],
    ['garbage', 'abc'],
    ['not base64url', '!!!!'],
    ['standard base64 padding', `${Buffer.from('[1,2]').toString('base64')}=`],
    ['base64 with +', 'ab+c'],
    ['spaces', 'WzEsMl0 '],
    ['not JSON', b64('hello world')],
    ['a number', b64('12')],
    ['null', b64('null')],
    ['an object', b64('{"timestamp":1,"id":2}')],
    ['one element', b64('[1]')],
    ['three elements', b64('[1,2,3]')],
    ['strings', b64('["1","2"]')],
    ['null element', b64('[1,null]')],
    ['nested array', b64('[[1],2]')],
    ['negative timestamp', b64('[-1,2]')],
    ['negative id', b64('[1,-2]')],
    ['float timestamp', b64('[1.5,2]')],
    ['float id', b64('[1,2.25]')],
    ['unsafe integer', b64('[9007199254740992,1]')],
    ['exponent overflow', b64('[1e400,1]')],
    ['booleans', b64('[true,false]')],
    ['too long', b64(`[1,${'1'.repeat(200)}]`)],
    ['201 characters', 'A'.repeat(201)],
  ])('decodes %s to null', (_what, value) => {
    expect(decodeCursor(value)).toBeNull();
  });

  it('accepts up to 200 characters of valid cursor text', () => {
    // JSON with leading spaces is still [timestamp, id]; its encoding is exactly 200 characters.
    const json = `${' '.repeat(145)}[1,2]`;
    const encoded = b64(json);
    expect(encoded).toHaveLength(200);
    expect(decodeCursor(encoded)).toEqual({ timestamp: 1, id: 2 });
  });
});
