import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { WhatsappClient } from '../whatsapp/client/whatsapp-client.port';
import { WaMedia } from '../whatsapp/client/whatsapp.types';
import { attemptDownload } from './media-attempt';
import { MediaJob } from './media.types';
import { MediaStore } from './stores/media-store';

class MemoryStore implements MediaStore {
  readonly kind = 'memory';
  readonly objects = new Map<string, Buffer>();
  failing = false;
  async put(sha256: string, data: Buffer): Promise<void> {
    if (this.failing) throw new Error('disk full');
    this.objects.set(sha256, data);
  }
  async read(sha256: string): Promise<Readable> {
    return Readable.from([this.objects.get(sha256)!]);
  }
  async delete(sha256: string): Promise<void> {
    this.objects.delete(sha256);
  }
}

const job = (overrides: Partial<MediaJob> = {}): MediaJob => ({ id: 1, sessionId: 's', messageId: 'm', chatId: 'c', mimetype: 'image/png', filename: 'announced.png', size: null, attempts: 1, leaseToken: 't', ...overrides });
const client = (download: () => Promise<WaMedia | null>): WhatsappClient =>
  ({ downloadMedia: download }) as Partial<WhatsappClient> as WhatsappClient;

describe('attemptDownload', () => {
  const bytes = Buffer.from('hello media');
  const sha = createHash('sha256').update(bytes).digest('hex');

  it('stores the bytes under their SHA-256, with the downloaded type and name (else the announced ones)', async () => {
    const store = new MemoryStore();
    expect(await attemptDownload(job(), client(async () => ({ mimetype: 'image/jpeg', dataBase64: bytes.toString('base64'), filename: 'x.jpg' })), store, 100)).toEqual({
      status: 'stored', sha256: sha, size: bytes.length, mimetype: 'image/jpeg', filename: 'x.jpg',
    });
    expect(store.objects.get(sha)?.equals(bytes)).toBe(true);
    expect(await attemptDownload(job(), client(async () => ({ mimetype: '', dataBase64: bytes.toString('base64'), filename: null })), store, 100)).toMatchObject({ mimetype: 'image/png', filename: 'announced.png' });
  });

  it('is too_large by the announced size without downloading, and by the downloaded one', async () => {
    const download = jest.fn(async () => ({ mimetype: 'image/png', dataBase64: bytes.toString('base64'), filename: null }));
    expect(await attemptDownload(job({ size: 101 }), client(download), new MemoryStore(), 100)).toEqual({ status: 'too_large', size: 101 });
    expect(download).not.toHaveBeenCalled();
    expect(await attemptDownload(job(), client(download), new MemoryStore(), 10)).toEqual({ status: 'too_large', size: bytes.length });
    const big = Buffer.alloc(3000).toString('base64');
    expect(await attemptDownload(job(), client(async () => ({ mimetype: 'x/y', dataBase64: big, filename: null })), new MemoryStore(), 100)).toEqual({ status: 'too_large', size: 3000 });
  });

  it('is expired when WhatsApp answers nothing, and a retry naming the cause when the download or the store fails', async () => {
    expect(await attemptDownload(job(), client(async () => null), new MemoryStore(), 100)).toEqual({ status: 'expired' });
    expect(await attemptDownload(job(), client(async () => Promise.reject(new Error('timed out'))), new MemoryStore(), 100)).toEqual({ status: 'retry', error: 'download failed: timed out' });
    const store = new MemoryStore();
    store.failing = true;
    expect(await attemptDownload(job(), client(async () => ({ mimetype: 'x/y', dataBase64: bytes.toString('base64'), filename: null })), store, 100)).toEqual({ status: 'retry', error: 'the memory store failed: disk full' });
    expect(await attemptDownload(job(), {} as WhatsappClient, new MemoryStore(), 100)).toEqual({ status: 'retry', error: 'this session has no client that can download media' });
  });
});
