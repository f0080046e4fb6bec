import type { MessagePage, MessageView } from '../src/whatsapp/chats/chat.view';
import type { MediaView } from '../src/media/media.types';
import type { SimulatedAccountSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { chat } from './support/accounts';
import { bytesOf, mediaMessage, sha256, stored } from './support/media-fixtures';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * Media (README, "Media"): the queue and each status, the message view's `media`, the route (ranges,
 * ETag, disposition, the headers that make an upload harmless), 404/409, POST, `message_update` to
 * sockets and webhooks. The simulated provider on a real PostgreSQL (MEDIA_STORE=postgres, the default).
 */
const NEVER = 3_600_000;
const IMAGE = bytesOf(5000, 1);
const PDF = bytesOf(3000, 2);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
const BIG = bytesOf(4000, 3);

const C1 = 'chat1@c.us';
const M_IMAGE = mediaMessage(C1, 1, stored(IMAGE, 'image/jpeg', 'photo.jpg'), 'a caption');
const M_PDF = mediaMessage(C1, 2, stored(PDF, 'application/pdf', 'Über «plan».pdf'));
const M_FAIL = mediaMessage(C1, 3, { mimetype: 'image/png', filename: null, failDownload: true });
const M_EXPIRED = mediaMessage(C1, 4, { mimetype: 'audio/ogg; codecs=opus', filename: null, expired: true });
const M_BIG = mediaMessage(C1, 5, stored(BIG, 'video/mp4'));
const M_SVG = mediaMessage(C1, 6, stored(SVG, 'image/svg+xml', 'x.svg'));
const M_COPY = mediaMessage(C1, 7, stored(IMAGE, 'image/jpeg', 'forwarded.jpg'));

function account(): SimulatedAccountSpec {
  return {
    scanAfterMs: 0,
    fetchLatencyMs: 0,
    chats: [{ ...chat(C1, 2), messages: [...chat(C1, 2).messages, M_IMAGE, M_PDF, M_FAIL, M_EXPIRED, M_BIG, M_SVG, M_COPY] }, chat('chat2@c.us', 1)],
  };
}

const mediaPath = (sessionId: string, chatId: string, messageId: string) => `/whatsapp-web/session/${sessionId}/chats/${encodeURIComponent(chatId)}/messages/${encodeURIComponent(messageId)}/media`;

async function viewOf(t: TestApp, sessionId: string, messageId: string, chatId = C1): Promise<MessageView> {
  const page = await t.request<MessagePage>('GET', `/whatsapp-web/session/${sessionId}/chats/${encodeURIComponent(chatId)}/messages?limit=500`);
  const found = page.body.messages.find((m) => m.id === messageId);
  if (!found) throw new Error(`${messageId} not in the page`);
  return found;
}

async function settledMedia(t: TestApp, sessionId: string, ids: string[]): Promise<void> {
  await waitFor(async () => {
    const rows = await t.db.query<{ status: string }>(`SELECT status FROM message_media WHERE session_id = $1 AND message_id = ANY($2)`, [sessionId, ids]);
    return rows.length === ids.length && rows.every((r) => r.status !== 'pending');
  }, `media of ${ids.length} message(s) settled`);
}

async function bytes(t: TestApp, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const response = await fetch(`${t.baseUrl}${path}`, { headers });
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()), headers: response.headers };
}

describe('media with MEDIA_DOWNLOAD=all (every status, the route)', () => {
  let t: TestApp;
  let hook: WebhookReceiver;
  const S = 'media';
  const ALL = [M_IMAGE, M_PDF, M_FAIL, M_EXPIRED, M_BIG, M_SVG, M_COPY].map((m) => m.id);

  beforeAll(async () => {
    hook = await WebhookReceiver.start();
    t = await TestApp.start({
      account: account(),
      env: { MEDIA_DOWNLOAD: 'all', MEDIA_MAX_BYTES: '3500', MEDIA_MAX_ATTEMPTS: '2', MEDIA_RETRY_BASE_MS: '10', WEBHOOK_URL: hook.url('/in'), WEBHOOK_EVENTS: 'message_update' },
    });
    await t.readySession(S);
    expect((await t.request('POST', `/whatsapp-web/session/${S}/sync-chats`)).status).toBe(200);
    await settledMedia(t, S, ALL);
  });
  afterAll(async () => {
    await t.close();
    await hook.close();
  });

  it('ends each download in its status, and the message view shows it', async () => {
    // Under MEDIA_MAX_BYTES (3500): the image (5000 bytes) and the video (4000) are too large; the image's copy too.
    expect((await viewOf(t, S, M_PDF.id)).media).toEqual({ status: 'stored', mimetype: 'application/pdf', filename: 'Über «plan».pdf', size: 3000, sha256: sha256(PDF), error: null });
    expect((await viewOf(t, S, M_IMAGE.id)).media).toEqual({ status: 'too_large', mimetype: 'image/jpeg', filename: 'photo.jpg', size: 5000, sha256: null, error: '5000 bytes is more than MEDIA_MAX_BYTES (3500)' });
    expect((await viewOf(t, S, M_BIG.id)).media).toMatchObject({ status: 'too_large', size: 4000 });
    expect((await viewOf(t, S, M_EXPIRED.id)).media).toEqual({ status: 'expired', mimetype: 'audio/ogg; codecs=opus', filename: null, size: null, sha256: null, error: 'WhatsApp no longer has this media' });
    expect((await viewOf(t, S, M_FAIL.id)).media).toEqual({
      status: 'failed',
      mimetype: 'image/png',
      filename: null,
      size: null,
      sha256: null,
      error: `download failed: simulated failure downloading the media of ${M_FAIL.id} (attempt 2 of 2)`,
    });
    expect((await viewOf(t, S, M_SVG.id)).media).toMatchObject({ status: 'stored', sha256: sha256(SVG) });
    // A message without media has none.
    expect((await viewOf(t, S, chat(C1, 2).messages[0].id)).media).toBeNull();
    const rows = await t.db.query<{ message_id: string; attempts: number }>(`SELECT message_id, attempts FROM message_media WHERE session_id = $1 ORDER BY message_id`, [S]);
    // Too large by what WhatsApp announced: decided on the first claim, without a download.
    expect(Object.fromEntries(rows.map((r) => [r.message_id, r.attempts]))).toEqual({ [M_IMAGE.id]: 1, [M_PDF.id]: 1, [M_FAIL.id]: 2, [M_EXPIRED.id]: 1, [M_BIG.id]: 1, [M_SVG.id]: 1, [M_COPY.id]: 1 });
  });

  it('serves a stored file whole, with its type, length, ETag, disposition, nosniff and a sandboxing CSP', async () => {
    const answer = await bytes(t, mediaPath(S, C1, M_PDF.id));
    expect(answer.status).toBe(200);
    expect(answer.body.equals(PDF)).toBe(true);
    expect(answer.headers.get('content-type')).toBe('application/pdf');
    expect(answer.headers.get('content-length')).toBe('3000');
    expect(answer.headers.get('etag')).toBe(`"${sha256(PDF)}"`);
    expect(answer.headers.get('accept-ranges')).toBe('bytes');
    expect(answer.headers.get('content-disposition')).toBe(`attachment; filename="_ber _plan_.pdf"; filename*=UTF-8''%C3%9Cber%20%C2%ABplan%C2%BB.pdf`);
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('content-security-policy')).toMatch(/^sandbox; default-src 'none'/);
    const head = await fetch(`${t.baseUrl}${mediaPath(S, C1, M_PDF.id)}`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), head.headers.get('etag'), (await head.arrayBuffer()).byteLength]).toEqual([200, '3000', `"${sha256(PDF)}"`, 0]);
    const svg = await bytes(t, mediaPath(S, C1, M_SVG.id));
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(svg.headers.get('content-disposition')).toBe('inline; filename="x.svg"');
    expect(svg.headers.get('content-security-policy')).toMatch(/^sandbox; default-src 'none'/);
  });

  it('answers ranges: 206 for one, 416 past the end, the whole body for a malformed or multi-range header', async () => {
    const path = mediaPath(S, C1, M_PDF.id);
    const first = await bytes(t, path, { range: 'bytes=0-9' });
    expect([first.status, first.headers.get('content-range'), first.headers.get('content-length')]).toEqual([206, 'bytes 0-9/3000', '10']);
    expect(first.body.equals(PDF.subarray(0, 10))).toBe(true);
    const suffix = await bytes(t, path, { range: 'bytes=-100' });
    expect([suffix.status, suffix.headers.get('content-range')]).toEqual([206, 'bytes 2900-2999/3000']);
    expect(suffix.body.equals(PDF.subarray(2900))).toBe(true);
    const open = await bytes(t, path, { range: 'bytes=2990-' });
    expect(open.body.equals(PDF.subarray(2990))).toBe(true);
    const clamped = await bytes(t, path, { range: 'bytes=2000-99999' });
    expect([clamped.status, clamped.headers.get('content-range'), clamped.body.length]).toEqual([206, 'bytes 2000-2999/3000', 1000]);
    const past = await bytes(t, path, { range: 'bytes=3000-' });
    expect([past.status, past.headers.get('content-range'), past.body.length]).toEqual([416, 'bytes */3000', 0]);
    for (const header of ['bytes=0-1,5-6', 'bytes=9-2', 'pages=1-2', 'bytes=x-']) {
      const whole = await bytes(t, path, { range: header });
      expect([header, whole.status, whole.headers.get('content-range')]).toEqual([header, 200, null]);
      expect(whole.body.equals(PDF)).toBe(true);
    }
  });

  it('answers 304 to If-None-Match naming the SHA-256', async () => {
    const path = mediaPath(S, C1, M_PDF.id);
    const etag = `"${sha256(PDF)}"`;
    const notModified = await bytes(t, path, { 'if-none-match': etag });
    expect([notModified.status, notModified.body.length, notModified.headers.get('etag')]).toEqual([304, 0, etag]);
    expect((await bytes(t, path, { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it('404 for an unknown session, message, a message of another chat or session, a message without media; 409 naming the status', async () => {
    const expect404 = async (path: string) => {
      const answer = await t.request<{ statusCode: number; error: string; message: string }>('GET', path);
      expect(answer.status).toBe(404);
      return answer.body.message;
    };
    expect(await expect404(mediaPath('nobody', C1, M_PDF.id))).toBe('Session nobody not found');
    expect(await expect404(mediaPath(S, 'chat2@c.us', M_PDF.id))).toBe(`Message ${M_PDF.id} not found in chat chat2@c.us of session ${S}`);
    expect(await expect404(mediaPath(S, C1, 'false_chat1@c.us_NOPE'))).toBe(`Message false_chat1@c.us_NOPE not found in chat ${C1} of session ${S}`);
    expect(await expect404(mediaPath(S, C1, chat(C1, 2).messages[0].id))).toBe(`Message ${chat(C1, 2).messages[0].id} has no media`);
    await t.readySession('other');
    expect(await expect404(mediaPath('other', C1, M_PDF.id))).toBe(`Message ${M_PDF.id} not found in chat ${C1} of session other`);
    expect((await t.request('POST', mediaPath('other', C1, M_PDF.id))).status).toBe(404);
    for (const [id, status] of [[M_FAIL.id, 'failed'], [M_EXPIRED.id, 'expired'], [M_BIG.id, 'too_large']]) {
      const answer = await t.request<{ statusCode: number; error: string; message: string }>('GET', mediaPath(S, C1, id));
      expect(answer).toMatchObject({ status: 409, body: { statusCode: 409, error: 'Conflict', message: `Media of message ${id} is not stored (status: ${status})` } });
    }
  });

  it('a bad message id is a 400 that says what is allowed', async () => {
    const answer = await t.request<{ message: string }>('GET', mediaPath(S, C1, 'x'.repeat(1025)));
    expect(answer.status).toBe(400);
    expect(answer.body.message).toBe('messageId must be 1 to 1024 bytes of UTF-8 text without NUL characters');
  });

  it('reports each status change as message_update to the webhook, through the outbox', async () => {
    const updates = () => hook.received.filter((r) => r.body.event === 'message_update').map((r) => r.body.payload.message as MessageView);
    // One a message whose status changed: the seven, each settled before the tests began.
    await waitFor(() => new Set(updates().map((m) => m.id)).size === ALL.length, 'a message_update delivery for each media message');
    const byId = new Map(updates().map((m) => [m.id, m.media?.status]));
    expect(byId.get(M_PDF.id)).toBe('stored');
    expect(byId.get(M_EXPIRED.id)).toBe('expired');
    expect(byId.get(M_FAIL.id)).toBe('failed');
    // too_large is decided before any download; pending to too_large is a change too.
    expect(byId.get(M_BIG.id)).toBe('too_large');
    // A retry (pending to pending) is no change: one update per message.
    expect(updates().filter((m) => m.id === M_FAIL.id)).toHaveLength(1);
  });

  it('POST downloads now and answers the media object; a failing one answers its new status', async () => {
    const answer = await t.request<MediaView>('POST', mediaPath(S, C1, M_PDF.id));
    expect(answer).toMatchObject({ status: 200, body: { status: 'stored', sha256: sha256(PDF), size: 3000, error: null } });
    const failing = await t.request<MediaView>('POST', mediaPath(S, C1, M_FAIL.id));
    expect(failing.status).toBe(200);
    expect(failing.body).toMatchObject({ status: 'pending', error: expect.stringContaining('(attempt 1 of 2; next in 10 ms)') });
  });
});

describe('media with MEDIA_DOWNLOAD=live (the default)', () => {
  let t: TestApp;
  const S = 'live';
  const LIVE_IMAGE = mediaMessage(C1, 20, stored(IMAGE, 'image/jpeg', 'live.jpg'));

  beforeAll(async () => {
    t = await TestApp.start({
      account: { ...account(), scanAfterMs: NEVER, live: [{ afterMs: 0, type: 'message', chatId: C1, message: LIVE_IMAGE }] },
      env: {},
    });
  });
  afterAll(() => t.close());

  it('a live message with media: `message` shows it pending, `message_update` stored, then the bytes are served; identical content is stored once', async () => {
    expect((await t.request('POST', `/whatsapp-web/session/${S}/start`)).status).toBe(201);
    const { log } = await t.joined(S);
    t.whatsapp.clientOf(S)!.scan();
    await log.waitFor('message_update');
    const [message] = log.of<{ message: MessageView }>('message');
    expect(message.message).toMatchObject({ id: LIVE_IMAGE.id, hasMedia: true, media: { status: 'pending', mimetype: 'image/jpeg', filename: 'live.jpg', size: IMAGE.length, sha256: null, error: null } });
    const [update] = log.of<{ message: MessageView }>('message_update');
    expect(update.message).toMatchObject({ id: LIVE_IMAGE.id, media: { status: 'stored', sha256: sha256(IMAGE), size: IMAGE.length } });
    const answer = await bytes(t, mediaPath(S, C1, LIVE_IMAGE.id));
    expect([answer.status, answer.headers.get('content-disposition'), answer.body.equals(IMAGE)]).toEqual([200, 'inline; filename="live.jpg"', true]);

    // A sync stores the account's media messages but queues none of them under `live`.
    expect((await t.request('POST', `/whatsapp-web/session/${S}/sync-chats`)).status).toBe(200);
    expect((await viewOf(t, S, M_COPY.id)).media).toBeNull();
    const notQueued = await t.request<{ message: string }>('GET', mediaPath(S, C1, M_COPY.id));
    expect(notQueued).toMatchObject({ status: 409, body: { message: `Media of message ${M_COPY.id} was not downloaded (none queued: see MEDIA_DOWNLOAD); POST to download it` } });
    // POST downloads it: the same bytes as the live image, one object for both.
    expect((await t.request<MediaView>('POST', mediaPath(S, C1, M_COPY.id))).body).toMatchObject({ status: 'stored', sha256: sha256(IMAGE), filename: 'forwarded.jpg' });
    expect(await t.db.query('SELECT sha256, size::int FROM media_blobs')).toEqual([{ sha256: sha256(IMAGE), size: IMAGE.length }]);
  });

  it('POST for a session that is not ready is a 409 naming its status', async () => {
    expect((await t.request('POST', `/whatsapp-web/session/${S}/stop`)).status).toBe(200);
    const answer = await t.request<{ message: string }>('POST', mediaPath(S, C1, M_PDF.id));
    expect(answer).toMatchObject({ status: 409, body: { message: `Session ${S} is not ready (status: stopped)` } });
  });

  it('a purge deletes the session media and the objects no other session refers to', async () => {
    expect((await t.request('DELETE', `/whatsapp-web/session/${S}?purge=true`)).status).toBe(200);
    expect(await t.db.query('SELECT count(*)::int AS n FROM message_media')).toEqual([{ n: 0 }]);
    expect(await t.db.query('SELECT count(*)::int AS n FROM media_blobs')).toEqual([{ n: 0 }]);
  });
});

describe('media with MEDIA_DOWNLOAD=off and API_KEY', () => {
  let t: TestApp;
  const S = 'off';
  const KEY = { 'x-api-key': 'k' };

  beforeAll(async () => {
    t = await TestApp.start({ account: { ...account(), live: [{ afterMs: 0, type: 'message', chatId: C1, message: mediaMessage(C1, 30, stored(PDF, 'application/pdf')) }] }, env: { MEDIA_DOWNLOAD: 'off', API_KEY: 'k' } });
    expect((await t.request('POST', `/whatsapp-web/session/${S}/start`, { headers: KEY })).status).toBe(201);
    await waitFor(async () => (await t.db.query(`SELECT 1 FROM messages WHERE wa_id = $1`, [mediaMessage(C1, 30, stored(PDF, 'x/y')).id])).length === 1, 'the live message stored');
  });
  afterAll(() => t.close());

  it('queues nothing, and the route needs the API key like every route', async () => {
    expect(await t.db.query('SELECT count(*)::int AS n FROM message_media')).toEqual([{ n: 0 }]);
    const id = mediaMessage(C1, 30, stored(PDF, 'x/y')).id;
    expect((await t.request('GET', mediaPath(S, C1, id))).status).toBe(401);
    expect((await t.request('POST', mediaPath(S, C1, id))).status).toBe(401);
    expect((await t.request('GET', mediaPath(S, C1, id), { headers: KEY })).status).toBe(409);
    expect((await t.request<MediaView>('POST', mediaPath(S, C1, id), { headers: KEY })).body).toMatchObject({ status: 'stored', sha256: sha256(PDF) });
    expect((await bytes(t, mediaPath(S, C1, id), KEY)).body.equals(PDF)).toBe(true);
  });
});
