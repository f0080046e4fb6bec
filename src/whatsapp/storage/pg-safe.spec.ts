import { isStorableChatId, isStorableChatIdParam, lastById, MAX_CHAT_ID_BYTES, pgSafeJson, pgSafeText, pgSafeTimestamp } from './pg-safe';

describe('pgSafeText', () => {
  it('removes every NUL and keeps everything else', () => {
    expect(pgSafeText('\u0000a\u0000\u0000b\u0000')).toBe('ab');
    expect(pgSafeText('\u0000')).toBe('');
    expect(pgSafeText('line\nTab\t\u0001\u007f')).toBe('line\nTab\t\u0001\u007f');
  });

  it('returns clean text unchanged, emoji and surrogate pairs included', () => {
    const text = 'Olá 👍🏽 日本語 \u{1F600}';
    expect(pgSafeText(text)).toBe(text);
    expect(pgSafeText('')).toBe('');
  });

  it('makes lone surrogates well-formed (U+FFFD) and keeps the rest', () => {
    expect(pgSafeText('a\uD800b')).toBe('a\uFFFDb');
    expect(pgSafeText('a\uDC00b')).toBe('a\uFFFDb');
    expect(pgSafeText('\uD83D')).toBe('\uFFFD');
    expect(pgSafeText('x\uDE00\uD83D')).toBe('x\uFFFD\uFFFD');
    expect(pgSafeText('ok \uD83D\uDE00 lone \uD83D')).toBe('ok \uD83D\uDE00 lone \uFFFD');
    expect(pgSafeText('a\uD800b').isWellFormed()).toBe(true);
  });

  it('handles NUL and a lone surrogate together, including a NUL that splits a pair', () => {
    expect(pgSafeText('\u0000x\uD800\u0000y')).toBe('x\uFFFDy');
    // Removing the NUL joins the halves into a valid pair: nothing is lost.
    expect(pgSafeText('\uD83D\u0000\uDE00')).toBe('\uD83D\uDE00');
  });
});

describe('chat ids: what is stored and what the messages route accepts', () => {
  const bytes = (n: number) => `${'1'.repeat(n - 5)}@c.us`;

  it('stores any id of 1 to MAX_CHAT_ID_BYTES bytes as stored, counted in UTF-8', () => {
    expect(MAX_CHAT_ID_BYTES).toBe(1024);
    for (const id of ['123@c.us', '\u00fcn\u00ef@c.us', '\u{1F600}', ' ', 'no at sign', bytes(1024), `${'\u00e9'.repeat(509)}@c.us`]) {
      expect({ id, stored: isStorableChatId(id) }).toEqual({ id, stored: true });
    }
    for (const id of ['', '\u0000', '\u0000\u0000', bytes(1025), `${'\u00e9'.repeat(510)}@c.us`]) {
      expect({ id, stored: isStorableChatId(id) }).toEqual({ id, stored: false });
    }
  });

  it('counts the length as stored: NULs removed, lone surrogates as U+FFFD (3 bytes)', () => {
    expect(isStorableChatId(`${bytes(1024)}\u0000\u0000`)).toBe(true);
    expect(isStorableChatId(`${'1'.repeat(1021)}\uD800`)).toBe(true);
    expect(isStorableChatId(`${'1'.repeat(1022)}\uD800`)).toBe(false);
  });

  it('the route accepts exactly the ids that can be stored as they are', () => {
    for (const id of ['123@c.us', '\u00fcn\u00ef@c.us', 'a/b c%d', bytes(1024)]) expect({ id, ok: isStorableChatIdParam(id) }).toEqual({ id, ok: true });
    for (const id of ['', 'a\u0000b', '\u0000', 'a\uD800', bytes(1025), 123, null, undefined, ['1@c.us']]) {
      expect({ id, ok: isStorableChatIdParam(id) }).toEqual({ id, ok: false });
    }
  });
});

describe('pgSafeJson', () => {
  it('removes NUL from values and keys', () => {
    expect(JSON.parse(pgSafeJson({ body: 'a\u0000b', 'k\u0000ey': 'v', plain: 1 }))).toEqual({ body: 'ab', key: 'v', plain: 1 });
  });

  it('never emits a NUL escape or a lone surrogate escape', () => {
    const text = pgSafeJson({ 'a\u0000': '\u0000', b: ['\uD800', { 'c\uDC00': 'd\u0000' }] });
    expect(text).not.toContain('\\u0000');
    expect(text.toLowerCase()).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/);
    expect(JSON.parse(text)).toEqual({ a: '', b: ['\uFFFD', { 'c\uFFFD': 'd' }] });
  });

  it('cleans nested arrays and objects at any depth', () => {
    const raw = {
      level1: {
        'nu\u0000l': [
          'x\u0000',
          ['y\u0000', { 'deep\u0000key': { inner: 'z\u0000\uD800' } }],
          { arr: [{ 'k\u0000': null }] },
        ],
      },
      keep: { n: 1.5, t: true, f: false, z: null, e: [], o: {} },
    };
    expect(JSON.parse(pgSafeJson(raw))).toEqual({
      level1: {
        nul: ['x', ['y', { deepkey: { inner: 'z\uFFFD' } }], { arr: [{ k: null }] }],
      },
      keep: { n: 1.5, t: true, f: false, z: null, e: [], o: {} },
    });
  });

  it('keeps the key order and the other keys of an object whose key is cleaned', () => {
    const text = pgSafeJson({ first: 1, 'se\u0000cond': 2, third: { x: 'y' } });
    expect(text).toBe('{"first":1,"second":2,"third":{"x":"y"}}');
  });

  it('serializes clean data exactly like JSON.stringify', () => {
    const raw = { id: 'true_1@c.us_3EB0', body: 'hi 👍', n: 3, nested: { a: [1, 'two', null] }, emoji: '\u{1F600}' };
    expect(pgSafeJson(raw)).toBe(JSON.stringify(raw));
  });

  it('turns bigints into strings instead of throwing', () => {
    expect(JSON.parse(pgSafeJson({ big: BigInt('12345678901234567890') }))).toEqual({ big: '12345678901234567890' });
  });

  it('does not modify its input', () => {
    const raw = { 'k\u0000': 'v\u0000', list: ['a\u0000'] };
    pgSafeJson(raw);
    expect(raw).toEqual({ 'k\u0000': 'v\u0000', list: ['a\u0000'] });
  });
});

describe('pgSafeTimestamp', () => {
  it.each([
    [null, null],
    [Number.NaN, null],
    [Number.POSITIVE_INFINITY, null],
    [Number.NEGATIVE_INFINITY, null],
    [-1, 0],
    [-1764150000, 0],
    [-0.5, 0],
    [0, 0],
    [1764150000, 1764150000],
    [1764150000.999, 1764150000],
    [0.4, 0],
    [32503680000, 32503680000],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    [Number.MAX_SAFE_INTEGER + 2, null],
    [1e19, null],
  ])('maps %p to %p', (input, expected) => {
    const result = pgSafeTimestamp(input);
    expect(result).toBe(expected);
    if (result !== null) expect(Object.is(result, -0)).toBe(false);
  });
});

describe('lastById', () => {
  const item = (id: string, v: number) => ({ id, v });

  it('treats ids that differ only by a NUL as the same stored id', () => {
    expect(lastById([item('a\u0000', 1), item('a', 2), item('b', 3)])).toEqual([item('a', 2), item('b', 3)]);
  });

  it('returns a copy when there are no duplicates', () => {
    const items = [item('a', 1), item('b', 2), item('c', 3)];
    const result = lastById(items);
    expect(result).toEqual(items);
    expect(result).not.toBe(items);
    expect(lastById([])).toEqual([]);
    const single = [item('a', 1)];
    expect(lastById(single)).toEqual(single);
    expect(lastById(single)).not.toBe(single);
  });

  it('keeps the last occurrence of each id, at the position of that occurrence', () => {
    const items = [item('a', 1), item('b', 2), item('a', 3), item('c', 4), item('b', 5), item('a', 6)];
    expect(lastById(items)).toEqual([item('c', 4), item('b', 5), item('a', 6)]);
  });

  it('keeps the order of the unique ids and the identity of the kept objects', () => {
    const last = item('x', 9);
    const items = [item('x', 1), item('y', 2), item('z', 3), last];
    const result = lastById(items);
    expect(result).toEqual([item('y', 2), item('z', 3), item('x', 9)]);
    expect(result[2]).toBe(last);
  });

  it('collapses a list of one id to its last element', () => {
    expect(lastById([item('a', 1), item('a', 2), item('a', 3)])).toEqual([item('a', 3)]);
  });
});
