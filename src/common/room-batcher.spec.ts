import { Writable } from 'node:stream';
import { webSocketTextFrames } from './room-batcher';
import * as ws from 'ws';

type FrameOptions = { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean };
const { Receiver, Sender } = ws as unknown as {
  /** ws's own frame parser (client side: server frames are unmasked), as a browser's would read them. */
  Receiver: new (options: { isServer: boolean }) => Writable;
  /** ws's own frame builder, which Socket.IO uses for a room broadcast's pre-encoded frame. */
  Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] };
};

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

  it('writes the very bytes ws writes for the same messages, at every length boundary', () => {
    const packets = ['', 'a'.repeat(124), 'b'.repeat(125), 'c'.repeat(65534), 'd'.repeat(65535), '2["x","héllo 👍"]'];
    const options = { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false };
    const expected = Buffer.concat(packets.flatMap((p) => Sender.frame(Buffer.from(`4${p}`), options)));
    expect(webSocketTextFrames(packets).equals(expected)).toBe(true);
  });

  it('measures lengths in UTF-8 bytes, not characters', async () => {
    const packets = ['2["tick","héllo 👍"]', `2["x","${'é'.repeat(70)}"]`];
    expect(await parse(webSocketTextFrames(packets))).toEqual(packets.map((p) => `4${p}`));
  });
});
