import { Writable } from 'node:stream';
import { webSocketTextFrames } from './room-batcher';
import * as ws from 'ws';

/** ws's own frame parser (client side: server frames are unmasked), as a browser's would read them. */
const Receiver = (ws as unknown as { Receiver: new (options: { isServer: boolean }) => Writable }).Receiver;

function parse(buffer: Buffer): Promise<string[]> {
  const receiver = new Receiver({ isServer: false });
  const messages: string[] = [];
  receiver.on('message', (data: Buffer, isBinary: boolean) => messages.push(`${isBinary ? 'binary:' : ''}${data.toString()}`));
  return new Promise((resolve, reject) => {
    receiver.on('error', reject);
    receiver.write(buffer, () => resolve(messages));
  });
}

describe('webSocketTextFrames', () => {
  it('frames each packet as a text message with engine.io\'s message prefix, at every length boundary', async () => {
    // Frame payload lengths ('4' + packet) of 1, 125, 126, 65535, 65536 and 70000 bytes.
    const packets = ['', 'a'.repeat(124), 'b'.repeat(125), 'c'.repeat(65534), 'd'.repeat(65535), 'e'.repeat(69999)];
    expect(await parse(webSocketTextFrames(packets))).toEqual(packets.map((p) => `4${p}`));
  });

  it('measures lengths in UTF-8 bytes, not characters', async () => {
    const packets = ['2["tick","héllo 👍"]', `2["x","${'é'.repeat(70)}"]`];
    expect(await parse(webSocketTextFrames(packets))).toEqual(packets.map((p) => `4${p}`));
  });
});
