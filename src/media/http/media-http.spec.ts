import { answerRange, matchesEtag } from './byte-range';
import { contentDisposition, safeContentType } from './content-disposition';

const SHA = 'a'.repeat(64);

describe('answerRange', () => {
  it.each([
    ['bytes=0-9', 100, { kind: 'partial', start: 0, end: 9 }],
    ['bytes=90-', 100, { kind: 'partial', start: 90, end: 99 }],
    ['bytes=90-1000', 100, { kind: 'partial', start: 90, end: 99 }],
    ['bytes=-10', 100, { kind: 'partial', start: 90, end: 99 }],
    ['bytes=-1000', 100, { kind: 'partial', start: 0, end: 99 }],
    ['bytes=99-99', 100, { kind: 'partial', start: 99, end: 99 }],
    [' bytes=5-5 ', 100, { kind: 'partial', start: 5, end: 5 }],
  ])('%s of %d bytes is a 206 of those bytes', (header, size, answer) => {
    expect(answerRange(header, size)).toEqual(answer);
  });

  it.each([
    ['bytes=100-', 100],
    ['bytes=100-200', 100],
    ['bytes=-0', 100],
    ['bytes=0-', 0],
    ['bytes=-5', 0],
  ])('%s of %d bytes is unsatisfiable (416)', (header, size) => {
    expect(answerRange(header, size)).toEqual({ kind: 'unsatisfiable' });
  });

  it.each([undefined, '', 'bytes=', 'bytes=-', 'bytes=5-1', 'bytes=0-1,5-6', 'items=0-5', 'bytes=a-b', 'bytes=0-1 ,2-3', 'bytes=1e3-', 'bytes=99999999999999999-'])(
    '%p is answered with the whole body',
    (header) => {
      expect(answerRange(header, 100)).toEqual({ kind: 'whole' });
    },
  );
});

describe('matchesEtag', () => {
  it('matches the tag, a weak form of it, a list holding it, and *', () => {
    const etag = `"${SHA}"`;
    expect(matchesEtag(etag, etag)).toBe(true);
    expect(matchesEtag(`W/${etag}`, etag)).toBe(true);
    expect(matchesEtag(`"x", ${etag}`, etag)).toBe(true);
    expect(matchesEtag('*', etag)).toBe(true);
    expect(matchesEtag('"other"', etag)).toBe(false);
    expect(matchesEtag(undefined, etag)).toBe(false);
  });
});

describe('contentDisposition', () => {
  it('shows images, audio and video inline, and offers everything else as an attachment', () => {
    expect(contentDisposition('image/jpeg', 'photo.jpg', SHA)).toBe('inline; filename="photo.jpg"');
    expect(contentDisposition('audio/ogg; codecs=opus', null, SHA)).toBe(`inline; filename="${SHA.slice(0, 16)}.ogg"`);
    expect(contentDisposition('video/mp4', null, SHA)).toBe(`inline; filename="${SHA.slice(0, 16)}.mp4"`);
    expect(contentDisposition('application/pdf', 'invoice.pdf', SHA)).toBe('attachment; filename="invoice.pdf"');
    expect(contentDisposition('text/html', 'page.html', SHA)).toBe('attachment; filename="page.html"');
    expect(contentDisposition(null, null, SHA)).toBe(`attachment; filename="${SHA.slice(0, 16)}"`);
  });

  it('encodes a name that is not plain ASCII (RFC 5987), with an ASCII fallback', () => {
    expect(contentDisposition('application/pdf', 'Über «plan» (2).pdf', SHA)).toBe(
      `attachment; filename="_ber _plan_ (2).pdf"; filename*=UTF-8''%C3%9Cber%20%C2%ABplan%C2%BB%20%282%29.pdf`,
    );
    expect(contentDisposition('application/pdf', 'a"b%.pdf', SHA)).toBe(`attachment; filename="a_b_.pdf"; filename*=UTF-8''a%22b%25.pdf`);
    expect(contentDisposition('application/pdf', 'dir\\c.pdf', SHA)).toBe('attachment; filename="c.pdf"');
  });

  it('keeps only the last path segment and drops control characters', () => {
    expect(contentDisposition('application/pdf', '../../etc/passwd', SHA)).toBe('attachment; filename="passwd"');
    expect(contentDisposition('application/pdf', 'a\r\nb.pdf', SHA)).toBe('attachment; filename="ab.pdf"');
    expect(contentDisposition('application/pdf', '..', SHA)).toBe(`attachment; filename="${SHA.slice(0, 16)}.pdf"`);
  });
});

describe('safeContentType', () => {
  it('keeps a well-formed type and replaces anything else', () => {
    expect(safeContentType('image/svg+xml')).toBe('image/svg+xml');
    expect(safeContentType('audio/ogg; codecs=opus')).toBe('audio/ogg; codecs=opus');
    expect(safeContentType('text/html\r\nSet-Cookie: x=1')).toBe('application/octet-stream');
    expect(safeContentType('nonsense')).toBe('application/octet-stream');
    expect(safeContentType(null)).toBe('application/octet-stream');
  });

  it('keeps a quoted parameter only in printable ASCII, which Node can send in a header', () => {
    expect(safeContentType('image/png; name="a b.png"')).toBe('image/png; name="a b.png"');
    for (const bad of ['image/png; name="\u20ac"', 'image/png; x="\u0001"', 'image/png; x="\u007f"']) {
      const type = safeContentType(bad);
      expect(type).toBe('application/octet-stream');
      expect(() => new Headers({ 'content-type': type })).not.toThrow();
    }
  });

  it('tells inline types whatever their case', () => {
    expect(contentDisposition('IMAGE/PNG', 'a.png', SHA)).toBe('inline; filename="a.png"');
  });
});
