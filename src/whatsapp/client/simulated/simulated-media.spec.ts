import { accountFromSpec, parseAccountSpec } from './simulated-account';
import { downloadSimulatedMedia, mediaRawFields, parseMediaSpec } from './simulated-media';

describe('simulated media', () => {
  it('reads the three forms of a message\'s "media", and names what is wrong', () => {
    expect(parseMediaSpec({ mimetype: 'image/png', filename: 'a.png', dataBase64: 'aGk=' }, 'm')).toEqual({ mimetype: 'image/png', filename: 'a.png', dataBase64: 'aGk=' });
    expect(parseMediaSpec({ mimetype: 'image/png', failDownload: true }, 'm')).toEqual({ mimetype: 'image/png', filename: null, failDownload: true });
    expect(parseMediaSpec({ mimetype: 'audio/ogg', expired: true }, 'm')).toEqual({ mimetype: 'audio/ogg', filename: null, expired: true });
    expect(() => parseMediaSpec({ dataBase64: 'aGk=' }, 'm')).toThrow('m.mimetype must be a non-empty string');
    expect(() => parseMediaSpec({ mimetype: 'x/y', dataBase64: 'not base64!' }, 'm')).toThrow('m needs dataBase64 (base64 text), failDownload: true or expired: true');
    expect(() => parseMediaSpec({ mimetype: 'x/y' }, 'm')).toThrow('m needs dataBase64');
    expect(() => parseMediaSpec('x', 'm')).toThrow('m must be an object');
  });

  it('a message with media has hasMedia, the raw fields WhatsApp has (no bytes), and downloads as the account says', () => {
    const spec = parseAccountSpec(
      {
        chats: [{ id: 'c@c.us', messages: [{ id: 'false_c@c.us_1', timestamp: 1, media: { mimetype: 'image/png', filename: 'a.png', dataBase64: 'aGk=' } }] }],
        live: [{ afterMs: 0, type: 'message', chatId: 'c@c.us', message: { id: 'false_c@c.us_2', timestamp: 2, media: { mimetype: 'image/png', failDownload: true } } }],
      },
      'file',
    );
    const account = accountFromSpec(spec);
    const [message] = account.chats[0].newestMessages(10);
    expect(message.hasMedia).toBe(true);
    expect(message.raw).toMatchObject({ mimetype: 'image/png', filename: 'a.png', size: 2 });
    expect(JSON.stringify(message.raw)).not.toContain('aGk=');
    expect(downloadSimulatedMedia('false_c@c.us_1', account.mediaOf!('false_c@c.us_1'))).toEqual({ mimetype: 'image/png', dataBase64: 'aGk=', filename: 'a.png' });
    expect(() => downloadSimulatedMedia('false_c@c.us_2', account.mediaOf!('false_c@c.us_2'))).toThrow('simulated failure downloading the media of false_c@c.us_2');
    expect(downloadSimulatedMedia('false_c@c.us_3', account.mediaOf!('false_c@c.us_3'))).toBeNull();
    expect(mediaRawFields({ mimetype: 'a/b', filename: null, expired: true })).toEqual({ mimetype: 'a/b' });
  });
});
