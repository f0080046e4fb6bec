/** Types a browser shows in place without running anything of them (with the CSP of the media route). */
const INLINE_TYPES = /^(image|audio|video)\//i;

/**
 * `type/subtype` and parameters, as a Content-Type may carry them (a quoted value in printable ASCII
 * only: Node refuses any other byte in a header); anything else is sent as bytes.
 */
const MIME_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(\s*;\s*[a-z0-9!#$&^_.+-]+=("[\x20\x21\x23-\x5b\x5d-\x7e]*"|[a-z0-9!#$&^_.+-]+))*$/i;

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/webp': '.webp',
  'image/gif': '.gif',
  'audio/ogg': '.ogg',
  'audio/mpeg': '.mp3',
  'audio/mp4': '.m4a',
  'video/mp4': '.mp4',
  'application/pdf': '.pdf',
};

/** The Content-Type to send: the stored one when it is well-formed, else `application/octet-stream`. */
export function safeContentType(mimetype: string | null): string {
  return mimetype !== null && MIME_TYPE.test(mimetype) ? mimetype : 'application/octet-stream';
}

/**
 * `inline` for images, audio and video, `attachment` otherwise, with the filename: an ASCII
 * `filename` for old clients and, when the name is not plain ASCII, `filename*` (RFC 6266 with
 * RFC 5987's UTF-8 encoding). Without a name, one from the SHA-256 and the type.
 */
export function contentDisposition(mimetype: string | null, filename: string | null, sha256: string): string {
  const type = safeContentType(mimetype);
  const kind = INLINE_TYPES.test(type) ? 'inline' : 'attachment';
  const name = cleanName(filename) ?? `${sha256.slice(0, 16)}${EXTENSIONS[type.split(';')[0].trim().toLowerCase()] ?? ''}`;
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  if (ascii === name) return `${kind}; filename="${name}"`;
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeRfc5987(name)}`;
}

/** The last path segment, without control characters; `null` when nothing is left. */
function cleanName(filename: string | null): string | null {
  if (filename === null) return null;
  // eslint-disable-next-line no-control-regex
  const base = filename.split(/[/\\]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return base === '' || base === '.' || base === '..' ? null : base.slice(0, 255);
}

function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
